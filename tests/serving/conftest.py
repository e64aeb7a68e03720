"""A fake model service whose model call just sleeps: admission and HTTP behaviour without a model."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pydantic import BaseModel

from apis.core.app import create_app
from apis.core.hooks import ModelService, StageTimer
from apis.core.images import DecodedImage
from apis.core.schemas import FormFields
from apis.core.settings import CoreSettings
from delivery.routes import ServiceRoute

FAKE = ServiceRoute(name="fake", port=0, path_prefix="/fakeapi", health_path="/fakeapi/health")


class SlowResponse(BaseModel):
    success: bool
    size: list[int]
    timing_ms: dict[str, float]


class SlowFakeService(ModelService[FormFields, DecodedImage, None]):
    """``POST /predict``: decodes the upload, then holds the model for ``delay_s``."""

    route = FAKE
    predict_path = "/predict"
    predict_summary = "Sleep on the model"
    form = FormFields
    response = SlowResponse
    max_queue_wait_s = 1.0

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.decoded = 0

    def setup(self) -> None:
        pass

    def info(self) -> dict[str, Any]:
        return {}

    def decode_request(self, form: FormFields, image: DecodedImage) -> DecodedImage:
        self.decoded += 1
        return image

    def predict(self, inputs: DecodedImage) -> None:
        time.sleep(self.delay_s)

    def encode_response(self, inputs: DecodedImage, output: None, timer: StageTimer) -> dict[str, Any]:
        return {"success": True, "size": list(inputs.original_size)}


@pytest.fixture()
def slow_app():
    """An app whose model call takes 0.3 s, with a 1 s wait budget."""
    service = SlowFakeService(delay_s=0.3)
    app = create_app(service, CoreSettings(overload_pause_s=0), load_in_background=False)
    return app, service
