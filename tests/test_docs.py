"""The README tells the truth: every setting a service reads is documented there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from apis.core.settings import CoreSettings
from apis.depth.cache import DepthCacheSettings
from apis.depth.settings import DepthSettings
from apis.detection.settings import DetectionSettings
from ui.settings import UiSettings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def environment_names(settings: type[BaseSettings]) -> list[str]:
    """The environment variable each field of ``settings`` is read from."""
    prefix = settings.model_config.get("env_prefix", "")
    names = []
    for name, field in settings.model_fields.items():
        alias = field.validation_alias
        names.append(alias if isinstance(alias, str) else f"{prefix}{name}".upper())
    return names


@pytest.mark.parametrize(
    "settings", [CoreSettings, DetectionSettings, DepthSettings, DepthCacheSettings, UiSettings]
)
def test_every_setting_is_documented_in_the_readme(settings):
    missing = [name for name in environment_names(settings) if f"`{name}`" not in README]
    assert not missing, f"{settings.__name__}: not in README.md: {missing}"


def test_the_readme_starts_with_the_two_commands():
    opening = "\n".join(README.splitlines()[:40])
    assert "make run" in opening and "make test" in opening


def test_files_the_readme_links_exist():
    root = Path(__file__).resolve().parents[1]
    for target in re.findall(r"\]\(((?!https?:|#)[^)\s]+)\)", README):
        assert (root / target.split("#")[0]).exists(), target
