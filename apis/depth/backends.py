"""Which implementation runs the depth model (``DEPTH_BACKEND``)."""

from __future__ import annotations

from apis.depth.model import DepthEstimator
from apis.depth.settings import DepthSettings


def create_estimator(
    settings: DepthSettings, *, device: str = "auto", torch_threads: int = 0
) -> DepthEstimator:
    """The estimator for the configured backend: torch through transformers, or onnx through ONNX Runtime.

    Each backend's modules are imported only when chosen, so the onnx image needs no torch.
    """
    if settings.backend == "onnx":
        from apis.depth.onnx_model import OnnxDepthEstimator

        return OnnxDepthEstimator(settings, device=device, torch_threads=torch_threads)
    return DepthEstimator(settings, device=device, torch_threads=torch_threads)
