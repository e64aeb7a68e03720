"""The YOLO model of one worker: load, warm up, predict. Knows nothing of HTTP."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from apis.detection.settings import DetectionSettings
from apis.detection.weights import prepare_ultralytics_environment, resolve_weights
from apis.runtimes.torch_device import apply_torch_threads, resolve_torch_device


@dataclass(frozen=True)
class DetectParams:
    """Per-request knobs of one prediction."""

    conf: float
    iou: float
    imgsz: int
    max_det: int
    classes: list[int] | None = None


@dataclass(frozen=True)
class Detection:
    """One object: class, confidence and box in original-image pixels."""

    class_id: int
    class_name: str
    confidence: float
    x1: float
    y1: float
    x2: float
    y2: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "class_id": self.class_id,
            "class_name": self.class_name,
            "confidence": round(self.confidence, 4),
            "bbox": {
                "x1": round(self.x1, 2),
                "y1": round(self.y1, 2),
                "x2": round(self.x2, 2),
                "y2": round(self.y2, 2),
            },
        }


@dataclass
class Prediction:
    """Detections sorted by confidence, plus what is needed to draw them and where time went."""

    detections: list[Detection]
    result: Any  # ultralytics.engine.results.Results, kept for plotting
    timing_ms: dict[str, float] = field(default_factory=dict)

    def annotated(self) -> Image.Image:
        """The image with boxes and labels drawn (ultralytics' own plotting, OpenCV backend)."""
        bgr = self.result.plot(pil=False)
        return Image.fromarray(np.ascontiguousarray(bgr[..., ::-1]))


class YoloDetector:
    """An ultralytics YOLO model. Not thread-safe: callers hold the inference gate."""

    backend = "torch"

    def __init__(self, settings: DetectionSettings, device: str = "auto", torch_threads: int = 0) -> None:
        self.settings = settings
        self.requested_device = device
        self.torch_threads = torch_threads
        self.device: str | None = None
        self.weights_path: str | None = None
        self.names: dict[int, str] = {}
        self._model = None

    def load(self) -> None:
        """Resolve and load the weights, then warm up with one inference."""
        prepare_ultralytics_environment()
        path = resolve_weights(
            self.settings.weights, self.settings.weights_dir, allow_download=self.settings.allow_download
        )
        from ultralytics import YOLO

        self.device = resolve_torch_device(self.requested_device)
        self._model = YOLO(str(path), task="detect")
        self.weights_path = str(path)
        self.names = {int(k): str(v) for k, v in self._model.names.items()}
        self.predict(
            Image.new("RGB", (self.settings.imgsz, self.settings.imgsz), (114, 114, 114)),
            self.default_params(),
        )
        # ultralytics lowers torch's thread count when its predictor starts; restore it afterwards.
        apply_torch_threads(self.torch_threads)

    def default_params(self) -> DetectParams:
        s = self.settings
        return DetectParams(conf=s.conf, iou=s.iou, imgsz=s.imgsz, max_det=s.max_det)

    def predict(self, image: Image.Image, params: DetectParams) -> Prediction:
        """Run the model on an RGB image; boxes come back in that image's pixels."""
        if self._model is None:
            raise RuntimeError("model not loaded")
        started = time.perf_counter()
        result = self._model.predict(
            image,
            conf=params.conf,
            iou=params.iou,
            imgsz=params.imgsz,
            max_det=params.max_det,
            classes=params.classes,
            device=self.device,
            verbose=False,
        )[0]
        total_ms = (time.perf_counter() - started) * 1000
        boxes = result.boxes
        xyxy = boxes.xyxy.cpu().numpy().astype(float)
        confidences = boxes.conf.cpu().numpy().astype(float)
        class_ids = boxes.cls.cpu().numpy().astype(int)
        detections = [
            Detection(int(c), self.names.get(int(c), str(c)), float(p), *map(float, box))
            for box, p, c in zip(xyxy, confidences, class_ids, strict=True)
        ]
        detections.sort(key=lambda d: d.confidence, reverse=True)
        speed = result.speed or {}
        timing = {
            "preprocess": round(float(speed.get("preprocess", 0.0)), 2),
            "inference": round(float(speed.get("inference", 0.0)), 2),
            "postprocess": round(float(speed.get("postprocess", 0.0)), 2),
            "model_call": round(total_ms, 2),
        }
        return Prediction(detections=detections, result=result, timing_ms=timing)

    def resolve_classes(self, wanted: list[str | int]) -> list[int]:
        """Class names (spelled as the model does) or ids -> ids; unknown ones raise ``KeyError``."""
        lookup = {name: class_id for class_id, name in self.names.items()}
        lookup.update({str(class_id): class_id for class_id in self.names})
        ids: list[int] = []
        for item in wanted:
            text = str(item).strip(" \t")
            if text not in lookup:
                raise KeyError(text)
            ids.append(lookup[text])
        return ids
