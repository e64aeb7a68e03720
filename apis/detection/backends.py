"""Which implementation runs the detection model (``DETECTION_BACKEND``)."""

from __future__ import annotations

from apis.detection.model import YoloDetector
from apis.detection.settings import DetectionSettings


def create_detector(
    settings: DetectionSettings, *, device: str = "auto", torch_threads: int = 0
) -> YoloDetector:
    """The detector for the configured backend (torch through ultralytics)."""
    return YoloDetector(settings, device=device, torch_threads=torch_threads)
