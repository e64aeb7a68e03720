"""The docs tell the truth: every setting a service reads is documented in README.md or docs/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from apis.core.settings import CoreSettings
from apis.depth.settings import DepthSettings
from apis.detection.settings import DetectionSettings
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


@pytest.mark.parametrize("settings", [CoreSettings, DetectionSettings, DepthSettings, UiSettings])
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
