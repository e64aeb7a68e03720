"""Suite-wide set-up: offline model libraries, the network guard, the test photos, a tiny YOLO."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Before any model library is imported: no hub, no downloads, no analytics, no pip installs.
_CACHE = Path(tempfile.mkdtemp(prefix="objdepth-tests-"))
os.environ.update(
    {
        "YOLO_OFFLINE": "1",
        "YOLO_AUTOINSTALL": "false",
        "YOLO_VERBOSE": "false",
        "YOLO_CONFIG_DIR": str(_CACHE / "ultralytics"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HOME": str(_CACHE / "huggingface"),
        "MPLBACKEND": "Agg",
        "DETECTION_ALLOW_DOWNLOAD": "false",
    }
)

from hypothesis import settings as hypothesis_settings  # noqa: E402

from tests.support import netguard  # noqa: E402

netguard.install()

# Property and fuzz tests draw the same examples on every run, so CI cannot fail on a new random draw
# unrelated to the change. `pytest --hypothesis-profile=explore` draws fresh random examples instead
# (and keeps failures in .hypothesis/ to replay them); a failure found that way becomes an explicit
# regression case (an @example, or tests/support/fuzzing.py's BROKEN_UPLOAD_REGRESSIONS).
hypothesis_settings.register_profile("repeatable", derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("explore", derandomize=False, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

REPO_ROOT = Path(__file__).resolve().parents[1]
IMAGES_DIR = Path(os.environ.get("OBJDEPTH_TEST_IMAGES", REPO_ROOT.parent / "shared" / "images"))
PHOTOS = ("bus.jpg", "zidane.jpg", "TEST.jpg", "demo01.jpg", "demo08.jpg", "demo17.jpg")


@pytest.fixture(autouse=True)
def _no_network_attempts():
    """Fail the test in which any code tried to leave loopback, even if it swallowed the error."""
    before = len(netguard.violations)
    yield
    new = netguard.violations[before:]
    assert not new, "network attempt outside loopback:\n" + "\n".join(new)


def pytest_sessionfinish(session, exitstatus):
    if netguard.violations and session.exitstatus == 0:
        session.exitstatus = 1


@pytest.fixture(scope="session")
def images_dir() -> Path:
    """``../shared/images``: the real photos the tests read (never copied into the repo)."""
    assert IMAGES_DIR.is_dir(), f"test photos not found at {IMAGES_DIR} (set OBJDEPTH_TEST_IMAGES)"
    return IMAGES_DIR


@pytest.fixture(scope="session")
def photo_bytes(images_dir) -> dict[str, bytes]:
    """Every test photo's bytes, by file name."""
    return {name: (images_dir / name).read_bytes() for name in PHOTOS}


@pytest.fixture(scope="session")
def tiny_yolo_weights(tmp_path_factory, images_dir) -> Path:
    """A yolo11n-architecture model with random (calibrated) weights, saved as a real ``.pt``."""
    from PIL import Image

    from apis.detection.demo import build_random_yolo

    calibration = [Image.open(images_dir / name) for name in ("bus.jpg", "zidane.jpg", "TEST.jpg")]
    return build_random_yolo(tmp_path_factory.mktemp("yolo") / "tiny-yolo11n.pt", calibration)
