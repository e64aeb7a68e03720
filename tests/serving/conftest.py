"""A fake model service whose model call just sleeps: admission and HTTP behaviour without a model."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Blueprint, current_app, jsonify

from apis.core import requests as fields
from apis.core.app import create_app
from apis.core.service import ModelService, current_host
from apis.core.settings import CoreSettings
from delivery.routes import ServiceRoute

FAKE = ServiceRoute(name="fake", port=0, path_prefix="/fakeapi", health_path="/fakeapi/health")


class SlowFakeService(ModelService):
    """``POST /predict``: decodes the upload, then holds the model for ``delay_s``."""

    route = FAKE
    max_queue_wait_s = 1.0

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.decoded = 0

    def setup(self) -> None:
        pass

    def info(self) -> dict[str, Any]:
        return {}

    def blueprint(self) -> Blueprint:
        blueprint = Blueprint("fake", __name__)

        @blueprint.post("/predict")
        def predict():
            host = current_host()
            host.require_ready()
            upload = fields.read_image(current_app.extensions["settings"])
            self.decoded += 1
            _, waited_s = host.infer(lambda: time.sleep(self.delay_s))
            return jsonify({"success": True, "size": upload.original_size, "waited_s": waited_s})

        return blueprint


@pytest.fixture()
def slow_app():
    """An app whose model call takes 0.3 s, with a 1 s wait budget."""
    service = SlowFakeService(delay_s=0.3)
    app = create_app(service, CoreSettings(overload_pause_s=0), load_in_background=False)
    return app, service
