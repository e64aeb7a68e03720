"""Reading the settings: ``settings.toml``, its profile's overlay and the environment overrides.

A profile (``profile = "demo"`` or ``"production"``, or ``OBJDEPTH_PROFILE``) lays
``profiles/<name>.toml`` over the file. Three environment variables override it: ``IMAGE_TAG`` (all three
images; ``make deploy`` sets it to the commit SHA), ``AWS_REGION`` and ``AWS_ACCOUNT_ID``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cdktf_app.config import PROFILES, Settings, SettingsError

DEFAULT_SETTINGS_FILE = Path(__file__).with_name("settings.toml")
PROFILES_DIR = Path(__file__).with_name("profiles")
PROFILE_ENV = "OBJDEPTH_PROFILE"

# Environment variable -> setting it overrides.
ENV_OVERRIDES = {"IMAGE_TAG": "image_tag", "AWS_REGION": "aws_region", "AWS_ACCOUNT_ID": "aws_account_id"}


def load_settings(
    path: Path | str = DEFAULT_SETTINGS_FILE, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read the settings file, apply the environment overrides and validate.

    ``environ`` defaults to ``os.environ``; tests pass their own mapping. Raises ``SettingsError``
    whose message names each invalid setting (and the environment variable it came from, if any).
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise SettingsError(f"cannot read settings file {path}: {err}") from err
    return settings_from_dict(raw, os.environ if environ is None else environ, source=str(path))


def settings_from_dict(raw: dict[str, Any], environ: Mapping[str, str], source: str = "settings") -> Settings:
    """Validate ``raw`` (the parsed settings file) after the profile and the environment overrides."""
    raw = with_profile(raw, environ.get(PROFILE_ENV, "").strip())
    from_env: dict[str, str] = {}
    for variable, setting in ENV_OVERRIDES.items():
        value = environ.get(variable, "").strip()
        if value:
            raw[setting] = value
            from_env[setting] = variable
    if "image_tag" in from_env and isinstance(raw.get("services"), dict):
        # IMAGE_TAG applies to all three images, over any per-service tag in the file.
        raw["services"] = {
            name: {**table, "image_tag": ""} if isinstance(table, dict) else table
            for name, table in raw["services"].items()
        }
    try:
        return Settings.model_validate(raw)
    except ValidationError as err:
        raise SettingsError(_describe(err, from_env, source)) from None


def with_profile(raw: dict[str, Any], override: str = "") -> dict[str, Any]:
    """``raw`` with its profile's file (``profiles/<profile>.toml``) laid over it, tables merged."""
    profile = override or raw.get("profile", "demo")
    if profile not in PROFILES:
        raise SettingsError(f"profile: {profile!r} is not one of {PROFILES}")
    path = PROFILES_DIR / f"{profile}.toml"
    overlay = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return _merged({**raw, "profile": profile}, overlay)


def _merged(base: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(err: ValidationError, from_env: Mapping[str, str], source: str) -> str:
    lines = [f"invalid settings in {source}:"]
    for error in err.errors():
        loc = ".".join(str(part) for part in error["loc"]) or "settings"
        message = error["msg"].removeprefix("Value error, ")
        origin = f" (from environment variable {from_env[loc]})" if loc in from_env else ""
        lines.append(f"  {loc}{origin}: {message}")
    return "\n".join(lines)
