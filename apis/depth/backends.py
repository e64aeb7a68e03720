"""The depth backends side by side: one protocol, the types they share, and the factory.

``DEPTH_BACKEND`` picks torch (:mod:`apis.depth.model`, transformers) or onnx
(:mod:`apis.depth.onnx_model`, ONNX Runtime). Neither derives from the other; each backend's modules
are imported only when chosen, so the onnx image needs no torch. Each backend takes its own small
config, built here from ``DepthSettings``: the torch backend never sees the ONNX paths, the onnx
backend never sees the model cache, revision or download switch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from apis.depth.settings import DepthSettings
from apis.runtimes.backend_config import config_from
from apis.runtimes.device import Placement


class DepthSemantics(StrEnum):
    """What the numbers of a depth map mean."""

    #: Relative inverse depth (disparity-like, no unit): larger means closer.
    RELATIVE_INVERSE = "relative_inverse"
    #: Distance from the camera in meters: smaller means closer.
    METRIC_METERS = "metric_meters"

    @property
    def larger_is_closer(self) -> bool:
        return self is DepthSemantics.RELATIVE_INVERSE


@dataclass
class DepthPrediction:
    """A depth map at the original image size (``height x width`` float32) and where time went."""

    depth: np.ndarray
    timing_ms: dict[str, float] = field(default_factory=dict)


class DepthBackend(Protocol):
    """What the depth service needs of a backend. Not thread-safe: callers hold the gate."""

    backend: str
    placement: Placement | None  # device, provider, precision and why, once loaded
    model_path: Path | None
    semantics: DepthSemantics
    max_depth: float | None

    @property
    def parameter_count(self) -> int:
        """Parameters of the loaded model (0 before loading)."""

    def load(self) -> None:
        """Open the model and warm it up; raise ``ModelLoadError`` saying what to do on failure."""

    def predict(self, image: Image.Image) -> DepthPrediction:
        """The depth map of ``image`` at its own size."""


@dataclass(frozen=True)
class TorchDepthConfig:
    """What the torch backend uses: the model, where to find or fetch it, input bounds, device, threads."""

    model: str
    cache_dir: Path | None
    revision: str | None
    allow_download: bool
    input_size: int
    max_tokens: int
    device: str = "auto"
    torch_threads: int = 0  # torch's intra-op threads; 0 = one per available core (none pinned on CUDA)
    half: str = "auto"  # HALF: fp16 on CUDA only (auto), always (true, CUDA only) or never (false)


@dataclass(frozen=True)
class OnnxDepthConfig:
    """What the onnx backend uses: the export, the model it must come from, input bounds, device, threads."""

    onnx_path: Path
    onnx_manifest_path: Path
    model: str  # DEPTH_MODEL: the manifest must name it as the export's source
    input_size: int
    max_tokens: int
    device: str = "auto"
    threads: int = 0  # ONNX Runtime's intra-op threads; 0 = one per available core


def create_estimator(
    settings: DepthSettings, *, device: str = "auto", torch_threads: int = 0, half: str = "auto"
) -> DepthBackend:
    """The estimator for the configured backend: torch through transformers, or onnx through ONNX Runtime.

    ``torch_threads`` (TORCH_THREADS) sizes the onnx backend's intra-op pool too: one knob for both.
    ``half`` (HALF) is the torch backend's; an ONNX export runs in the precision it was exported in.
    """
    if settings.backend == "onnx":
        from apis.depth.onnx_model import OnnxDepthEstimator

        return OnnxDepthEstimator(
            config_from(OnnxDepthConfig, settings, device=device, threads=torch_threads)
        )
    from apis.depth.model import DepthEstimator

    config = config_from(TorchDepthConfig, settings, device=device, torch_threads=torch_threads, half=half)
    return DepthEstimator(config)
