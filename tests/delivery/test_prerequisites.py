"""Each missing prerequisite gets its own clear message; `deploy` fails fast without AWS credentials."""

import subprocess
import sys

import boto3

from delivery import cli, engine, prerequisites
from delivery.images import ROOT
from delivery.stack import StackTools, find_tools


def test_no_credentials(no_aws):
    check, identity = prerequisites.check_aws(boto3.Session(region_name="eu-west-1"))

    assert not check.ok and identity is None
    assert check.detail == "no AWS credentials found"
    assert "aws configure" in check.fix
    assert "MISSING  AWS credentials: no AWS credentials found" in check.line()


def test_no_region(aws, monkeypatch):
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")

    check, _ = prerequisites.check_aws(boto3.Session())

    assert not check.ok and "AWS_REGION" in check.fix


def test_valid_credentials_give_the_identity(aws):
    check, identity = prerequisites.check_aws(aws)

    assert check.ok
    assert identity.region == aws.region_name and identity.account_id.isdigit()


def test_wrong_account_is_refused(aws):
    check, identity = prerequisites.check_aws(aws, expected_account="999999999999")

    assert not check.ok and identity is None
    assert "AWS_ACCOUNT_ID is 999999999999" in check.detail


def test_missing_node():
    check = prerequisites.check_node(which=lambda _: None)

    assert not check.ok and "nodejs.org" in check.fix


def test_stack_tools():
    assert prerequisites.check_stack_tools(StackTools(terraform="/bin/tofu", cdktf=None)).ok
    assert "cdktf CLI not found" in prerequisites.check_stack_tools(StackTools("/bin/terraform", None)).detail
    missing = prerequisites.check_stack_tools(StackTools(terraform=None, cdktf=None))
    assert not missing.ok
    assert "neither terraform nor tofu" in missing.detail and "cdktf-cli" in missing.fix


def test_find_tools_prefers_terraform_then_tofu():
    tools = find_tools(which={"tofu": "/x/tofu", "cdktf": "/x/cdktf"}.get)

    assert tools == StackTools(terraform="/x/tofu", cdktf="/x/cdktf")


def test_engine_detection_skips_an_engine_that_does_not_work(monkeypatch):
    monkeypatch.delenv("CONTAINER_ENGINE", raising=False)
    which = {"docker": "/x/docker", "podman": "/x/podman"}.get

    found = engine.detect_engine(which=which, works=lambda exe: exe.endswith("podman"))

    assert found == engine.ContainerEngine("podman", "/x/podman")
    assert engine.detect_engine(which=which, works=lambda _: False) is None


def test_engine_choice_from_the_environment(monkeypatch):
    monkeypatch.setenv("CONTAINER_ENGINE", "docker")

    found = engine.detect_engine(
        which={"docker": "/x/docker", "podman": "/x/podman"}.get, works=lambda _: True
    )

    assert found.name == "docker"


def test_missing_engine_messages():
    assert "no container engine found" in engine.describe_missing_engine(which=lambda _: None)
    assert "docker installed but" in engine.describe_missing_engine(which={"docker": "/x/docker"}.get)


def test_deploy_fails_fast_without_credentials(no_aws):
    result = subprocess.run(
        [sys.executable, "-m", "delivery", "deploy"],
        cwd=ROOT,
        env={**no_aws, "AWS_REGION": "eu-west-1"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert "[1/9] Check prerequisites" in result.stdout
    assert "MISSING  AWS credentials: no AWS credentials found" in result.stdout
    assert "FAILED: Check prerequisites" in result.stdout
    assert "Nothing has been created in AWS yet." in result.stdout
    assert "[2/7]" not in result.stdout


def test_aws_region_wins_over_the_default_region(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "eu-central-1")

    assert cli.aws_session().region_name == "eu-central-1"
