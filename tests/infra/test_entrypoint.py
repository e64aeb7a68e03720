"""``python -m cdktf_app`` (``make synth``, ``cdktf synth``) and ``cdktf.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cdktf_app.__main__ import main
from cdktf_app.config import ENV_OVERRIDES

ROOT = Path(__file__).resolve().parents[2]


def _without_metadata(value: Any) -> Any:
    """The synthesized JSON without the ``//`` metadata blocks the test synth leaves out."""
    if isinstance(value, dict):
        return {k: _without_metadata(v) for k, v in value.items() if k != "//"}
    if isinstance(value, list):
        return [_without_metadata(v) for v in value]
    return value


def test_cdktf_json_runs_the_same_module() -> None:
    config = json.loads((ROOT / "cdktf.json").read_text(encoding="utf-8"))
    assert config["language"] == "python"
    assert config["app"].endswith("-m cdktf_app")


def test_main_writes_the_objdepth_stack(
    stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # `stack` first: the CDK runtime is already loaded
    for variable in ENV_OVERRIDES:
        monkeypatch.delenv(variable, raising=False)
    assert main(outdir=str(tmp_path)) == 0
    written = json.loads((tmp_path / "stacks" / "objdepth" / "cdk.tf.json").read_text(encoding="utf-8"))
    assert _without_metadata(written["resource"]) == stack.doc["resource"]
    assert written["output"] == stack.doc["output"]
    assert json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["stacks"]["objdepth"]


def test_main_refuses_invalid_settings_naming_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_REGION", "atlantis")
    assert main(outdir=str(tmp_path)) == 2
    assert "aws_region (from environment variable AWS_REGION)" in capsys.readouterr().err
    assert not (tmp_path / "stacks").exists()
