"""Detection model settings (``DETECTION_*`` environment variables)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

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
    backend: Literal["torch", "onnx"] = Field(
        default="torch",
        description="torch: the weights through ultralytics and PyTorch; onnx: their ONNX export through "
        "ONNX Runtime (no torch needed; `make export` writes it).",
    )
    onnx_path: Path = Field(
        default=Path("models/onnx/detection.onnx"),
        description="The ONNX file of the onnx backend (exported from `weights` by `python -m apis.export`).",
    )
    onnx_manifest: Path | None = Field(
        default=None,
        description="Its manifest (source weights, class names, checksum); default: onnx_path with .json.",
    )

    @property
    def onnx_manifest_path(self) -> Path:
        return self.onnx_manifest or self.onnx_path.with_suffix(".json")
