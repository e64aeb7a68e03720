"""Image names, tags from git, and the build/push sequence (a recording engine stands in for docker)."""

import json
import subprocess
from datetime import UTC, datetime

import pytest

from delivery import images
from delivery.routes import SERVICES


class FakeEngine:
    name = "fake"
    executable = "/x/fake"

    def __init__(self):
        self.calls = []

    def build(self, dockerfile, tags, *, context, build_args=None):
        self.calls.append(("build", dockerfile.name, list(tags), build_args))

    def push(self, reference):
        self.calls.append(("push", reference))

    def login(self, registry, username, password):
        self.calls.append(("login", registry, username))


@pytest.fixture
def engine():
    return FakeEngine()


def test_one_image_per_service_with_an_existing_dockerfile():
    assert [spec.service for spec in images.IMAGES] == [route.name for route in SERVICES]
    for spec in images.IMAGES:
        assert (images.ROOT / spec.dockerfile).is_file(), spec.dockerfile


def test_reference():
    spec = images.IMAGES[0]
    assert spec.reference("", "abc") == "yoloflask/api:abc"
    assert (
        spec.reference("1.dkr.ecr.eu-west-1.amazonaws.com/", "abc")
        == "1.dkr.ecr.eu-west-1.amazonaws.com/yoloflask/api:abc"
    )


def test_build_then_push_every_tag(engine, tmp_path):
    built = images.build_images(engine, registry="reg", tags=["sha1", "prod"], build_args={"A": "1"})
    images.push_images(engine, built)
    images.write_manifest(tmp_path / "images.json", built)

    assert engine.calls[0] == (
        "build",
        "api.Dockerfile",
        ["reg/yoloflask/api:sha1", "reg/yoloflask/api:prod"],
        {"SERVICE": "detection", "A": "1"},
    )
    assert [c[1] for c in engine.calls if c[0] == "push"][:2] == [
        "reg/yoloflask/api:sha1",
        "reg/yoloflask/api:prod",
    ]
    assert len(engine.calls) == 9
    assert images.read_manifest(tmp_path / "images.json") == built
    manifest = json.loads((tmp_path / "images.json").read_text())
    assert manifest["images"]["ui"] == [
        "reg/objectdetectionreact/webapp:sha1",
        "reg/objectdetectionreact/webapp:prod",
    ]


def _git(root, *args):
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def test_default_tag_is_the_commit_and_marks_a_dirty_tree(tmp_path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "f.txt").write_text("1")
    _git(tmp_path, "add", "f.txt")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "c")
    sha = subprocess.run(
        ["git", "rev-parse", "--short=12", "HEAD"], cwd=tmp_path, capture_output=True, text=True
    )

    assert images.default_tag(tmp_path) == sha.stdout.strip()

    (tmp_path / "f.txt").write_text("2")
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert images.default_tag(tmp_path, now=now) == f"{sha.stdout.strip()}-dirty-20261128T120000Z"


def test_default_tag_outside_git(tmp_path):
    assert images.default_tag(tmp_path).startswith("nogit-dirty-")
