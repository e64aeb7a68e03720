"""``python -m cdktf_app`` (``make synth``, ``cdktf synth``) and ``cdktf.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cdktf_app.__main__ import main
from cdktf_app.settings_file import ENV_OVERRIDES
from tests.cdktf_app.helpers import DEPLOYED

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
    for variable, value in DEPLOYED.items():
        monkeypatch.setenv(variable, value)
    assert main(outdir=str(tmp_path), argv=[]) == 0
    written = json.loads((tmp_path / "stacks" / "objdepth" / "cdk.tf.json").read_text(encoding="utf-8"))
    assert _without_metadata(written) == _without_metadata(stack.doc)
    assert json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["stacks"]["objdepth"]


def test_main_without_a_published_tag_stops_and_says_how_to_get_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for variable in (*ENV_OVERRIDES, "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    # No credentials anywhere and no instance metadata: AWS cannot be asked, nothing leaves the machine.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    assert main(outdir=str(tmp_path), argv=[]) == 2
    err = capsys.readouterr().err
    assert "cannot synthesize yet" in err and "run `make deploy` once" in err and "IMAGE_TAG" in err
    assert not (tmp_path / "stacks").exists()


def test_the_published_tag_is_read_from_ssm() -> None:
    from botocore.exceptions import ClientError

    from cdktf_app.resolve import complete, published_tag
    from cdktf_app.settings_file import settings_from_dict
    from tests.cdktf_app.helpers import raw_settings

    class Ssm:
        def __init__(self, value):
            self.value, self.asked = value, []

        def get_parameter(self, Name):
            self.asked.append(Name)
            if self.value is None:
                raise ClientError({"Error": {"Code": "ParameterNotFound"}}, "GetParameter")
            return {"Parameter": {"Value": self.value}}

    assert published_tag(Ssm(None), "/objdepth/image-tag") == ""
    ssm = Ssm("3f2a9c1d0e4b\n")

    class Session:
        def __init__(self, region_name):
            self.region_name = region_name

        def client(self, name):
            assert name == "ssm", "the account is given, so STS is not asked"
            return ssm

    settings = settings_from_dict(raw_settings(), environ={"AWS_ACCOUNT_ID": "123456789012"})
    completed = complete(settings, session_factory=Session)
    assert ssm.asked == ["/objdepth/image-tag"]
    assert {completed.image_tag_for(name) for name in completed.services} == {"3f2a9c1d0e4b"}
    assert completed.unresolved() == []


def test_main_refuses_invalid_settings_naming_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_REGION", "atlantis")
    assert main(outdir=str(tmp_path), argv=[]) == 2
    assert "aws_region (from environment variable AWS_REGION)" in capsys.readouterr().err
    assert not (tmp_path / "stacks").exists()
