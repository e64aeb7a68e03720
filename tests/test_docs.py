"""The docs tell the truth: every setting a service reads is documented in README.md or docs/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from apis.core.settings import CoreSettings
from apis.depth.cache import DepthCacheSettings
from apis.depth.settings import DepthSettings
from apis.detection.settings import DetectionSettings
from bench.doc_blocks import BLOCKS, current_block
from ui.settings import UiSettings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = {
    path: path.read_text(encoding="utf-8")
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
}


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
def test_every_setting_is_documented(settings):
    everything = "\n".join(DOCS.values())
    missing = [name for name in environment_names(settings) if f"`{name}`" not in everything]
    assert not missing, f"{settings.__name__}: not in README.md or docs/*.md: {missing}"


def test_the_readme_starts_with_the_two_commands():
    opening = "\n".join(README.splitlines()[:40])
    assert "make run" in opening and "make test" in opening


@pytest.mark.parametrize("doc", list(DOCS), ids=lambda path: path.name)
def test_files_the_docs_link_exist(doc):
    for target in re.findall(r"\]\(((?!https?:|#)[^)\s]+)\)", DOCS[doc]):
        assert (doc.parent / target.split("#")[0]).exists(), f"{doc.name}: {target}"


def documented_defaults() -> dict[str, str]:
    """``NAME -> default`` from every ``| `NAME` | default | ... |`` table row of the docs."""
    rows = re.findall(
        r"^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|\s*([^|]+?)\s*\|", "\n".join(DOCS.values()), re.MULTILINE
    )
    return {name: default.strip("`") for name, default in rows}


@pytest.mark.parametrize("settings", [CoreSettings, DetectionSettings, DepthSettings])
def test_documented_defaults_are_the_code_defaults(settings):
    """Where a table gives a plain value as the default, it is the one the code uses."""
    documented = documented_defaults()
    wrong = {}
    for env_name, field in zip(environment_names(settings), settings.model_fields.values(), strict=True):
        shown, actual = documented.get(env_name), field.default
        if (
            shown is None
            or isinstance(actual, bool | type(None))
            or not isinstance(actual, int | float | str)
        ):
            continue
        try:
            same = float(shown) == float(actual) if isinstance(actual, int | float) else shown == actual
        except ValueError:
            continue  # a description ("from delivery/routes.py"), not a value
        if not same:
            wrong[env_name] = (shown, actual)
    assert not wrong, f"documented default != code default: {wrong}"


@pytest.mark.parametrize("doc", sorted(BLOCKS))
def test_the_benchmark_summary_in_the_docs_is_the_latest_report(doc):
    """README.md and docs/serving.md quote bench/results/report.json exactly (make bench rewrites them)."""
    results = json.loads((ROOT / "bench" / "results" / "report.json").read_text())
    assert current_block((ROOT / doc).read_text()) == BLOCKS[doc](results), (
        "run make bench or restore the block"
    )
