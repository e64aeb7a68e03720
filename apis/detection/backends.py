"""Which implementation runs the detection model (``DETECTION_BACKEND``)."""

from __future__ import annotations

from apis.detection.model import YoloDetector
from apis.detection.settings import DetectionSettings


def create_detector(
    settings: DetectionSettings, *, device: str = "auto", torch_threads: int = 0
) -> YoloDetector:
    """The detector for the configured backend: torch through ultralytics, or onnx through ONNX Runtime.

    Each backend's modules are imported only when chosen, so the onnx image needs no torch.
    """
    if settings.backend == "onnx":
        from apis.detection.onnx_model import OnnxYoloDetector

        return OnnxYoloDetector(settings, device=device, torch_threads=torch_threads)
    return YoloDetector(settings, device=device, torch_threads=torch_threads)
