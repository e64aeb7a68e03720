"""The detection backends side by side: one protocol, the types they share, and the factory.

``DETECTION_BACKEND`` picks torch (:mod:`apis.detection.model`, ultralytics) or onnx
(:mod:`apis.detection.onnx_model`, ONNX Runtime). Neither derives from the other; each backend's
modules are imported only when chosen, so the onnx image needs no torch. Each backend takes its own
small config, built here from ``DetectionSettings``: the torch backend never sees the ONNX paths, the
onnx backend never sees the weights cache or download switch.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from PIL import Image

from apis.detection.settings import DetectionSettings
from apis.runtimes.backend_config import config_from
from apis.runtimes.device import Placement


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
class Prediction(ABC):
    """Detections sorted by confidence and where time went; each backend knows how to draw them."""

    detections: list[Detection]
    timing_ms: dict[str, float] = field(default_factory=dict)

    @abstractmethod
    def annotated(self) -> Image.Image:
        """The image with boxes and labels drawn."""


class Detector(Protocol):
    """What the detection service needs of a backend. Not thread-safe: callers hold the gate."""

    backend: str
    placement: Placement | None  # device, provider, precision and why, once loaded
    weights_path: str | None
    names: dict[int, str]

    def load(self) -> None:
        """Open the model and warm it up; raise ``ModelLoadError`` saying what to do on failure."""

    def predict(self, image: Image.Image, params: DetectParams) -> Prediction:
        """Detections in ``image``'s pixels, sorted by confidence."""

    def default_params(self) -> DetectParams:
        """The configured thresholds (DETECTION_CONF, _IOU, _IMGSZ, _MAX_DET)."""

    def resolve_classes(self, wanted: list[str | int]) -> list[int]:
        """Class names or ids -> ids; unknown ones raise ``KeyError``."""


def default_params(settings: DetectionSettings) -> DetectParams:
    """The configured thresholds, as one prediction's parameters."""
    return DetectParams(conf=settings.conf, iou=settings.iou, imgsz=settings.imgsz, max_det=settings.max_det)


@dataclass(frozen=True)
class TorchDetectorConfig:
    """What the torch backend uses: the weights, where to find or fetch them, device and threads."""

    weights: str
    weights_dir: Path
    allow_download: bool
    defaults: DetectParams
    device: str = "auto"
    torch_threads: int = 0  # torch's intra-op threads; 0 = one per available core (none pinned on CUDA)
    half: str = "auto"  # HALF: fp16 on CUDA only (auto), always (true, CUDA only) or never (false)


@dataclass(frozen=True)
class OnnxDetectorConfig:
    """What the onnx backend uses: the export, the weights it must come from, device and threads."""

    onnx_path: Path
    onnx_manifest_path: Path
    weights: str  # DETECTION_WEIGHTS: the manifest must name them as the export's source
    defaults: DetectParams
    device: str = "auto"
    threads: int = 0  # ONNX Runtime's intra-op threads; 0 = one per available core


def class_ids(names: dict[int, str], wanted: list[str | int]) -> list[int]:
    """Class names (spelled as the model does) or ids -> ids; unknown ones raise ``KeyError``."""
    lookup = {name: class_id for class_id, name in names.items()}
    lookup.update({str(class_id): class_id for class_id in names})
    ids: list[int] = []
    for item in wanted:
        text = str(item).strip(" \t")
        if text not in lookup:
            raise KeyError(text)
        ids.append(lookup[text])
    return ids


def create_detector(
    settings: DetectionSettings, *, device: str = "auto", torch_threads: int = 0, half: str = "auto"
) -> Detector:
    """The detector for the configured backend: torch through ultralytics, or onnx through ONNX Runtime.

    ``torch_threads`` (TORCH_THREADS) sizes the onnx backend's intra-op pool too: one knob for both.
    ``half`` (HALF) is the torch backend's; an ONNX export runs in the precision it was exported in.
    """
    defaults = default_params(settings)
    if settings.backend == "onnx":
        from apis.detection.onnx_model import OnnxYoloDetector

        config = config_from(
            OnnxDetectorConfig, settings, defaults=defaults, device=device, threads=torch_threads
        )
        return OnnxYoloDetector(config)
    from apis.detection.model import YoloDetector

    given = {"defaults": defaults, "device": device, "torch_threads": torch_threads, "half": half}
    config = config_from(TorchDetectorConfig, settings, **given)
    return YoloDetector(config)
