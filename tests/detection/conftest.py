"""A detection app built through the real factory and loading path, with a tiny random YOLO."""

from __future__ import annotations

import pytest

from apis.core.app import create_app
from apis.core.settings import CoreSettings
from apis.detection.service import DetectionService
from apis.detection.settings import DetectionSettings


@pytest.fixture(scope="session")
def detection_settings(tiny_yolo_weights) -> DetectionSettings:
    return DetectionSettings(weights=str(tiny_yolo_weights), allow_download=False)


@pytest.fixture(scope="session")
def detection_app(detection_settings):
    core = CoreSettings(max_upload_mb=1.0, max_pixels=4_000_000, max_waiting=16)
    app = create_app(DetectionService(detection_settings, core), core, load_in_background=False)
    app.config["TESTING"] = True
    return app


@pytest.fixture()
def client(detection_app):
    return detection_app.test_client()
