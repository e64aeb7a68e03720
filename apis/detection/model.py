"""The YOLO model of one worker: load, warm up, predict. Knows nothing of HTTP."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from apis.detection.backends import Detection, DetectParams, Prediction, TorchDetectorConfig, class_ids
from apis.detection.weights import prepare_ultralytics_environment, resolve_weights
from apis.runtimes.device import Placement
from apis.runtimes.torch_device import apply_torch_threads, place_torch


@dataclass
class TorchPrediction(Prediction):
    """Detections of the torch backend; keeps ultralytics' result to draw with its own plotting."""

    result: Any = None  # ultralytics.engine.results.Results

    def annotated(self) -> Image.Image:
        """The image with boxes and labels drawn (ultralytics' own plotting, OpenCV backend)."""
        bgr = self.result.plot(pil=False)
        return Image.fromarray(np.ascontiguousarray(bgr[..., ::-1]))


class YoloDetector:
    """The torch backend: an ultralytics YOLO model. Not thread-safe: callers hold the inference gate."""

    backend = "torch"

    def __init__(self, config: TorchDetectorConfig) -> None:
        self.config = config
        self.placement: Placement | None = None
        self.weights_path: str | None = None
        self.names: dict[int, str] = {}
        self._model = None

    def load(self) -> None:
        """Resolve and load the weights, then warm up with one inference."""
        prepare_ultralytics_environment()
        c = self.config
        path = resolve_weights(c.weights, c.weights_dir, allow_download=c.allow_download)
        from ultralytics import YOLO

        self.placement = place_torch(c.device, c.half)
        self._model = YOLO(str(path), task="detect")
        self.weights_path = str(path)
        self.names = {int(k): str(v) for k, v in self._model.names.items()}
        side = c.defaults.imgsz
        self.predict(Image.new("RGB", (side, side), (114, 114, 114)), c.defaults)
        # ultralytics lowers torch's thread count when its predictor starts; restore it afterwards.
        apply_torch_threads(c.torch_threads, self.placement.device)
        self.placement.log("detection", path.name)

    def default_params(self) -> DetectParams:
        return self.config.defaults

    def predict(self, image: Image.Image, params: DetectParams) -> TorchPrediction:
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
            device=self.placement.device,
            half=self.placement.precision == "fp16",
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
        return TorchPrediction(detections=detections, timing_ms=timing, result=result)

    def resolve_classes(self, wanted: list[str | int]) -> list[int]:
        """Class names (spelled as the model does) or ids -> ids; unknown ones raise ``KeyError``."""
        return class_ids(self.names, wanted)
