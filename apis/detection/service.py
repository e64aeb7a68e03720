"""``POST /detect``: the detection service plugged into the shared API core."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, current_app, jsonify

from apis.core import requests as fields
from apis.core.images import encode_data_url
from apis.core.openapi import UPLOAD_ERRORS, endpoint
from apis.core.service import ModelService, current_host
from apis.core.settings import CoreSettings
from apis.detection.backends import create_detector
from apis.detection.model import DetectParams
from apis.detection.schemas import DetectForm, DetectResponse, parse_class_list
from apis.detection.settings import DetectionSettings
from apis.routes import DETECTION


def _regex_literal(text: str) -> str:
    """Escape regex metacharacters only (JSON Schema patterns are ECMA-262, where "\\ " is invalid)."""
    return "".join("\\" + ch if ch in r"\^$.|?*+()[]{}" else ch for ch in text)


class DetectionService(ModelService):
    """Object detection with YOLO (ultralytics): each object in a photo with its class, confidence and box."""

    route = DETECTION
    # About 35 bus.jpg detections (~55 ms each on 2 cores): a page user waits at most ~2 s more.
    max_queue_wait_s = 2.0

    def __init__(self, settings: DetectionSettings | None = None, core: CoreSettings | None = None) -> None:
        self.settings = settings or DetectionSettings()
        core = core or CoreSettings()
        self.detector = create_detector(self.settings, device=core.device, torch_threads=core.torch_threads)

    def setup(self) -> None:
        self.detector.load()

    def info(self) -> dict[str, Any]:
        s = self.settings
        return {
            "task": "detect",
            "backend": self.detector.backend,
            "weights": s.weights,
            "weights_path": self.detector.weights_path,
            "device": self.detector.device,
            "classes": {str(k): v for k, v in self.detector.names.items()},
            "defaults": {"conf": s.conf, "iou": s.iou, "imgsz": s.imgsz, "max_det": s.max_det},
        }

    def field_schemas(self) -> dict[str, dict[str, Any]]:
        """``classes`` takes this model's class names or ids, comma-separated."""
        if not self.detector.names:
            return {}
        choices = [_regex_literal(name) for name in self.detector.names.values()]
        choices += [str(class_id) for class_id in self.detector.names]
        one = "(?:" + "|".join(sorted(choices, key=len, reverse=True)) + ")"
        return {"classes": {"pattern": rf"^[ \t]*{one}(?:[ \t]*,[ \t]*{one})*[ \t]*$"}}

    def summary(self) -> dict[str, Any]:
        """The short ``model`` block of every response."""
        return {
            "weights": self.settings.weights,
            "task": "detect",
            "backend": self.detector.backend,
            "device": self.detector.device,
        }

    def blueprint(self) -> Blueprint:
        blueprint = Blueprint("detection", __name__)
        blueprint.add_url_rule("/detect", view_func=self._detect, methods=["POST"])
        return blueprint

    def read_params(self, form: DetectForm) -> DetectParams:
        """Per-request thresholds: the form's values, or the configured defaults."""
        s = self.settings
        classes = None
        if form.classes is not None:  # already checked against the model's classes by DetectForm
            classes = self.detector.resolve_classes(parse_class_list(form.classes))
        return DetectParams(
            conf=s.conf if form.conf is None else form.conf,
            iou=s.iou if form.iou is None else form.iou,
            imgsz=form.imgsz or s.imgsz,
            max_det=form.max_det or s.max_det,
            classes=classes,
        )

    @endpoint(
        summary="Detect objects in a photo",
        form=DetectForm,
        upload_field="image",
        response=DetectResponse,
        errors=UPLOAD_ERRORS,
    )
    def _detect(self):
        started = time.perf_counter()
        host = current_host()
        host.require_ready()
        core: CoreSettings = current_app.extensions["settings"]
        form = fields.read_fields(DetectForm, context={"resolve_classes": self.detector.resolve_classes})
        params = self.read_params(form)
        upload = fields.read_image(core)
        decoded_at = time.perf_counter()

        prediction, waited_s = host.infer(lambda: self.detector.predict(upload.image, params))
        timing = {"decode": (decoded_at - started) * 1000, "queue": waited_s * 1000, **prediction.timing_ms}

        annotated_image = None
        if form.include_image:
            encode_started = time.perf_counter()
            annotated_image = encode_data_url(prediction.annotated(), quality=self.settings.jpeg_quality)
            timing["encode"] = (time.perf_counter() - encode_started) * 1000
        timing["total"] = (time.perf_counter() - started) * 1000
        response = DetectResponse(
            detections=[d.to_dict() for d in prediction.detections],
            detection_count=len(prediction.detections),
            image_info={
                "filename": upload.filename,
                "original_size": upload.original_size,
                "format": upload.source_format,
            },
            model=self.summary(),
            timing_ms={k: round(v, 2) for k, v in timing.items()},
            annotated_image=annotated_image,
        )
        current_app.extensions["metrics"].observe_stages(response.timing_ms)
        skip = {"annotated_image"} if annotated_image is None else set()
        return jsonify(response.model_dump(exclude=skip))
