"""The commands that apply, destroy and read the stack (a recording runner stands in for the tools)."""

import json
import subprocess
import sys

import pytest

from delivery.stack import Stack, StackTools
from delivery.steps import DeliveryError

SYNTHESIZED = {
    "resource": {
        "aws_ecr_repository": {
            "detection_repository_1A2B": {"name": "yoloflask/api"},
            "ui_repository_3C4D": {"name": "objectdetectionreact/webapp"},
        },
        "aws_ecs_cluster": {"cluster": {"name": "objdepth-cluster"}},
    }
}
ENV = {"IMAGE_TAG": "abc123", "AWS_REGION": "eu-west-1", "AWS_ACCOUNT_ID": "123456789012"}


class Recorder:
    def __init__(self, root, *, fail_on: str = "", stdout: str = ""):
        self.root, self.fail_on, self.stdout = root, fail_on, stdout
        self.calls: list[list[str]] = []
        self.envs: list[dict] = []

    def __call__(self, command, *, cwd, env, check, text, capture_output):
        self.calls.append(command)
        self.envs.append(env)
        if command[1:3] == ["-m", "cdktf_app"]:  # synth writes the stack
            out = self.root / "cdktf.out" / "stacks" / "objdepth"
            out.mkdir(parents=True, exist_ok=True)
            (out / "cdk.tf.json").write_text(json.dumps(SYNTHESIZED))
        if self.fail_on and self.fail_on in command:
            raise subprocess.CalledProcessError(1, command, stderr="Error: boom")
        return subprocess.CompletedProcess(command, 0, stdout=self.stdout)


def test_terraform_path_synthesizes_inits_and_applies(tmp_path):
    run = Recorder(tmp_path)
    Stack(StackTools(terraform="/x/terraform", cdktf=None), ENV, tmp_path, run=run).apply(
        adopt_repositories=["yoloflask/api", "depthanythingflask/api"]
    )

    chdir = f"-chdir={tmp_path}/cdktf.out/stacks/objdepth"
    assert run.calls == [
        [sys.executable, "-m", "cdktf_app"],
        ["/x/terraform", chdir, "init", "-input=false", "-upgrade"],
        ["/x/terraform", chdir, "apply", "-input=false", "-auto-approve"],
    ]
    assert all(env["IMAGE_TAG"] == "abc123" and env["CHECKPOINT_DISABLE"] == "1" for env in run.envs)
    adopt = json.loads((tmp_path / "cdktf.out" / "stacks" / "objdepth" / "adopt_ecr.tf.json").read_text())
    assert adopt == {
        "import": [{"to": "aws_ecr_repository.detection_repository_1A2B", "id": "yoloflask/api"}]
    }


def test_cdktf_path_deploys_and_destroys_the_named_stack(tmp_path):
    run = Recorder(tmp_path)
    stack = Stack(StackTools(terraform="/x/terraform", cdktf="/x/cdktf"), ENV, tmp_path, run=run)

    stack.apply(adopt_repositories=["yoloflask/api"])
    stack.destroy()

    synth = [sys.executable, "-m", "cdktf_app"]
    tail = ["objdepth", "--app", f"{sys.executable} -m cdktf_app", "--output", "cdktf.out", "--skip-synth"]
    tail.append("--auto-approve")
    assert run.calls == [synth, ["/x/cdktf", "deploy", *tail], synth, ["/x/cdktf", "destroy", *tail]]
    # Nothing to import while destroying.
    assert not (tmp_path / "cdktf.out" / "stacks" / "objdepth" / "adopt_ecr.tf.json").exists()


def test_outputs_are_unwrapped(tmp_path):
    raw = {"ui_url": {"value": "http://alb/", "type": "string"}, "ecs_service_names": {"value": {"ui": "ui"}}}
    run = Recorder(tmp_path, stdout=json.dumps(raw))

    outputs = Stack(StackTools("/x/terraform", None), ENV, tmp_path, run=run).outputs()

    assert outputs == {"ui_url": "http://alb/", "ecs_service_names": {"ui": "ui"}}
    assert run.calls[0][2:] == ["output", "-json"]


def test_a_failing_command_is_named(tmp_path):
    run = Recorder(tmp_path, fail_on="apply")

    with pytest.raises(DeliveryError, match="exited with status 1"):
        Stack(StackTools("/x/terraform", None), ENV, tmp_path, run=run).apply()


def test_synth_without_output_is_reported(tmp_path):
    def run(command, **_):
        return subprocess.CompletedProcess(command, 0, stdout="")

    with pytest.raises(DeliveryError, match="synth wrote no"):
        Stack(StackTools("/x/terraform", None), ENV, tmp_path, run=run).destroy()
