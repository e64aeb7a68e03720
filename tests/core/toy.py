"""A toy model service: the whole hook contract around a fake model, no model library.

It proves the shape (a service is its hooks and nothing of HTTP) and lets the core's tests run the
gate, readiness, timing and metrics in milliseconds.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from apis.core.hooks import ModelService, StageTimer
from apis.core.images import DecodedImage
from apis.core.schemas import FormFields, ImageInfo, image_info
from delivery.routes import ServiceRoute

TOY = ServiceRoute(name="toy", port=5999, path_prefix="/toyapi", health_path="/toyapi/health")


class ToyForm(FormFields):
    scale: float = Field(default=1.0, gt=0, le=10, description="Multiplies the mean brightness.")


class ToyResponse(BaseModel):
    success: bool
    brightness: float
    image_info: ImageInfo
    timing_ms: dict[str, float]


@dataclass(frozen=True)
class ToyInputs:
    image: DecodedImage
    scale: float


@dataclass
class ToyOutput:
    brightness: float
    thread: str
    timing_ms: dict[str, float] = field(default_factory=lambda: {"inference": 1.0})


class FakeModel:
    """Mean brightness of a picture; ``release`` holds every call until a test lets it go."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.release.set()
        self.entered = threading.Event()
        self.calls = 0

    def __call__(self, inputs: ToyInputs) -> ToyOutput:
        self.entered.set()
        self.release.wait(30)
        self.calls += 1
        brightness = float(np.asarray(inputs.image.image.convert("L")).mean())
        return ToyOutput(brightness * inputs.scale, threading.current_thread().name)


class ToyService(ModelService[ToyForm, ToyInputs, ToyOutput]):
    """A toy: the mean brightness of a photo."""

    route = TOY
    predict_path = "/brightness"
    predict_summary = "Mean brightness of a photo"
    form = ToyForm
    response = ToyResponse

    def __init__(self, *, fail_with: Exception | None = None) -> None:
        self.may_load = threading.Event()
        self.may_load.set()
        self.fail_with = fail_with
        self.model: FakeModel | None = None
        self.setup_thread: str | None = None

    def setup(self) -> None:
        self.may_load.wait(30)
        if self.fail_with is not None:
            raise self.fail_with
        self.setup_thread = threading.current_thread().name
        self.model = FakeModel()

    def info(self) -> dict[str, Any]:
        return {"backend": "fake", "device": None}

    def decode_request(self, form: ToyForm, image: DecodedImage) -> ToyInputs:
        return ToyInputs(image=image, scale=form.scale)

    def predict(self, inputs: ToyInputs) -> ToyOutput:
        assert self.model is not None
        return self.model(inputs)

    def encode_response(self, inputs: ToyInputs, output: ToyOutput, timer: StageTimer) -> dict[str, Any]:
        with timer.stage("encode"):
            return {
                "success": True,
                "brightness": round(output.brightness, 3),
                "image_info": image_info(inputs.image),
            }
