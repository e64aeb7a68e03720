"""``POST /detect``: the detection service plugged into the shared API core."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, current_app, jsonify

from apis.core import requests as fields
from apis.core.errors import invalid_parameter
from apis.core.images import encode_data_url
from apis.core.service import ModelService, current_host
from apis.core.settings import CoreSettings
from apis.detection.model import DetectParams, YoloDetector
from apis.detection.settings import DetectionSettings
from apis.routes import DETECTION


class DetectionService(ModelService):
    """YOLO behind ``POST /detect``."""

    route = DETECTION

    def __init__(self, settings: DetectionSettings | None = None, core: CoreSettings | None = None) -> None:
        self.settings = settings or DetectionSettings()
        core = core or CoreSettings()
        self.detector = YoloDetector(self.settings, device=core.device, torch_threads=core.torch_threads)

    def setup(self) -> None:
        self.detector.load()

    def info(self) -> dict[str, Any]:
        s = self.settings
        return {
            "task": "detect",
            "backend": "torch",
            "weights": s.weights,
            "weights_path": self.detector.weights_path,
            "device": self.detector.device,
            "classes": {str(k): v for k, v in self.detector.names.items()},
            "defaults": {"conf": s.conf, "iou": s.iou, "imgsz": s.imgsz, "max_det": s.max_det},
        }

    def summary(self) -> dict[str, Any]:
        """The short ``model`` block of every response."""
        return {
            "weights": self.settings.weights,
            "task": "detect",
            "backend": "torch",
            "device": self.detector.device,
        }

    def blueprint(self) -> Blueprint:
        blueprint = Blueprint("detection", __name__)
        blueprint.add_url_rule("/detect", view_func=self._detect, methods=["POST"])
        return blueprint

    def read_params(self) -> DetectParams:
        """Per-request thresholds from form or query fields, checked against their ranges."""
        s = self.settings
        classes = None
        raw_classes = fields.get_str("classes")
        if raw_classes is not None:
            wanted = fields.get_json("classes") if raw_classes.startswith("[") else raw_classes.split(",")
            if not isinstance(wanted, list) or not wanted:
                raise invalid_parameter(
                    "classes", "expected class names or ids, comma-separated or a JSON list"
                )
            try:
                classes = self.detector.resolve_classes(wanted)
            except KeyError as unknown:
                known = ", ".join(list(self.detector.names.values())[:8])
                raise invalid_parameter(
                    "classes", f"unknown class {unknown.args[0]!r}; known include {known} ..."
                ) from None
        return DetectParams(
            conf=fields.get_float("conf", s.conf, low=0.0, high=1.0),
            iou=fields.get_float("iou", s.iou, low=0.0, high=1.0),
            imgsz=fields.get_int("imgsz", s.imgsz, low=32, high=2048),
            max_det=fields.get_int("max_det", s.max_det, low=1, high=s.max_det),
            classes=classes,
        )

    def _detect(self):
        started = time.perf_counter()
        host = current_host()
        host.require_ready()
        core: CoreSettings = current_app.extensions["settings"]
        include_image = fields.get_bool("include_image", False)
        params = self.read_params()
        upload = fields.read_image(core)
        decoded_at = time.perf_counter()

        with host.gate.slot() as waited_s:
            prediction = self.detector.predict(upload.image, params)
        timing = {"decode": (decoded_at - started) * 1000, "queue": waited_s * 1000, **prediction.timing_ms}

        body: dict[str, Any] = {
            "success": True,
            "detections": [d.to_dict() for d in prediction.detections],
            "detection_count": len(prediction.detections),
            "image_info": {
                "filename": upload.filename,
                "original_size": upload.original_size,
                "format": upload.source_format,
            },
            "model": self.summary(),
        }
        if include_image:
            encode_started = time.perf_counter()
            body["annotated_image"] = encode_data_url(
                prediction.annotated(), quality=self.settings.jpeg_quality
            )
            timing["encode"] = (time.perf_counter() - encode_started) * 1000
        timing["total"] = (time.perf_counter() - started) * 1000
        body["timing_ms"] = {k: round(v, 2) for k, v in timing.items()}
        current_app.extensions["metrics"].observe_stages(body["timing_ms"])
        return jsonify(body)
