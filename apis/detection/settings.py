"""Detection model settings (``DETECTION_*`` environment variables)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DetectionSettings(BaseSettings):
    """What model to load and the default thresholds of ``POST /detect``."""

    model_config = SettingsConfigDict(env_prefix="DETECTION_", extra="ignore")

    weights: str = Field(
        default="yolo11n.pt",
        description="A local .pt file, or an Ultralytics model name (yolo11n.pt, yolov8s.pt ...) "
        "downloaded once into weights_dir.",
    )
    weights_dir: Path = Field(
        default=Path("~/.cache/objdepth/weights"), description="Where downloaded weights are kept."
    )
    allow_download: bool = Field(default=True, description="Allow downloading named weights if not cached.")
    conf: float = Field(default=0.25, ge=0, le=1, description="Default confidence threshold.")
    iou: float = Field(default=0.45, ge=0, le=1, description="Default IoU threshold of NMS.")
    imgsz: int = Field(default=640, ge=32, le=2048, description="Default inference size (pixels).")
    max_det: int = Field(default=300, ge=1, le=1000, description="Default max detections per image.")
    jpeg_quality: int = Field(default=90, ge=30, le=100, description="Quality of annotated_image.")
