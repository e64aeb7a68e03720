"""buildspec.yml: the CodeBuild phases, files and make targets it names, and no credential in it."""

import re

import pytest
import yaml

from delivery.images import IMAGES, ROOT

TEXT = (ROOT / "buildspec.yml").read_text()
SPEC = yaml.safe_load(TEXT)
COMMANDS = [command for phase in SPEC["phases"].values() for command in phase.get("commands", [])]


def test_structure():
    assert str(SPEC["version"]) == "0.2"
    assert list(SPEC["phases"]) == ["install", "pre_build", "build", "post_build"]
    assert SPEC["phases"]["install"]["runtime-versions"] == {"python": 3.11, "nodejs": 22}
    assert SPEC["artifacts"]["files"] == ["image-tags.json"]


def test_the_whole_suite_runs_before_anything_is_built():
    pre_build = SPEC["phases"]["pre_build"]["commands"]
    assert pre_build[0] == "make test", "the whole suite, checkov and the browser test included"
    assert not any("test-fast" in c or "not slow" in c for c in COMMANDS)
    install = SPEC["phases"]["install"]["commands"]
    assert any("playwright install" in c and "chromium" in c for c in install)
    assert any("/usr/bin/chromium" in c for c in install), "where tests/ui/test_browser.py looks"
    assert any("aws ecr get-login-password" in c and "--password-stdin" in c for c in pre_build)


def test_images_are_tagged_with_the_commit_and_prod_then_pushed():
    (build,) = SPEC["phases"]["build"]["commands"]
    assert '--tag "$IMAGE_TAG"' in build and '--tag "$MOVING_TAG"' in build
    assert SPEC["env"]["variables"]["MOVING_TAG"] == "prod"
    assert any("CODEBUILD_RESOLVED_SOURCE_VERSION" in c and "IMAGE_TAG=" in c for c in COMMANDS)
    post_build = SPEC["phases"]["post_build"]["commands"]
    assert post_build[0] == 'test "$CODEBUILD_BUILD_SUCCEEDING" = 1'  # post_build runs even after a failure
    assert any("delivery push --manifest image-tags.json" in c for c in post_build)


def test_the_pushed_tag_is_recorded_and_deploy_takes_the_make_deploy_path():
    post_build = SPEC["phases"]["post_build"]["commands"]
    record = post_build.index('.venv/bin/python -m delivery record-tag --tag "$IMAGE_TAG"')
    deploy = next(i for i, c in enumerate(post_build) if "python -m delivery deploy" in c)
    assert record < deploy
    assert post_build[deploy].startswith('if [ "$DEPLOY" = true ]')
    assert SPEC["env"]["variables"]["DEPLOY"] == "false", "deploying is opt-in"
    install = "\n".join(SPEC["phases"]["install"]["commands"])
    assert "sha256sum -c" in install and SPEC["env"]["variables"]["TERRAFORM_VERSION"].startswith("1.1")


def test_record_tag_writes_the_parameter_synth_reads(aws, capsys):
    import argparse

    from delivery import cli

    assert cli.record_tag_command(argparse.Namespace(tag="0123456789ab"), session=aws) == 0
    assert aws.client("ssm").get_parameter(Name="/objdepth/image-tag")["Parameter"]["Value"] == "0123456789ab"


def test_every_make_target_it_names_exists():
    makefile = (ROOT / "Makefile").read_text()
    targets = {t for c in COMMANDS for t in re.findall(r"\bmake ([a-z.][a-z./-]*)", c)}
    assert targets >= {"test", ".venv/.installed"}
    for target in targets:
        rule = "$(STAMP)" if target == ".venv/.installed" else target
        assert re.search(rf"^{re.escape(rule)}:", makefile, re.M), f"make {target} is not in the Makefile"


def test_every_file_it_names_exists():
    named = set(re.findall(r"[\w./-]+\.Dockerfile", TEXT)) | {"pyproject.toml"}
    for path in named:
        assert (ROOT / path).is_file(), path
    # The images are built through delivery, which names each Dockerfile.
    for spec in IMAGES:
        assert (ROOT / spec.dockerfile).is_file()
    assert any("python -m delivery images" in c for c in COMMANDS)


def test_docker_hub_credentials_come_from_secrets_manager_or_parameter_store():
    secrets = {**SPEC["env"].get("secrets-manager", {}), **SPEC["env"].get("parameter-store", {})}
    assert {"DOCKERHUB_USERNAME", "DOCKERHUB_TOKEN"} <= set(secrets)
    for name in ("DOCKERHUB_USERNAME", "DOCKERHUB_TOKEN"):
        assert name not in SPEC["env"]["variables"]
    assert any("docker login" in c and "--password-stdin" in c and "DOCKERHUB" in c for c in COMMANDS)


@pytest.mark.parametrize(
    "pattern",
    [
        r"AKIA[0-9A-Z]{16}",  # access key id
        r"(?i)aws_secret_access_key",
        r"(?i)docker login[^|\n]*(-p|--password)[ =]",  # password on the command line
        r"(?i)(password|token|secret)\s*:\s*[\"']?[A-Za-z0-9+/=_-]{12,}",  # a literal value
        r"dckr_pat_",  # Docker Hub token
    ],
)
def test_no_credential_literal(pattern):
    plain = {k: v for k, v in SPEC["env"].items() if k not in ("secrets-manager", "parameter-store")}
    assert not re.search(pattern, yaml.safe_dump(plain) + "\n".join(COMMANDS)), pattern
    assert not re.search(r"AKIA[0-9A-Z]{16}|dckr_pat_", TEXT)
