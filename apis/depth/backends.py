"""Which implementation runs the depth model (``DEPTH_BACKEND``)."""

from __future__ import annotations

from apis.depth.model import DepthEstimator
from apis.depth.settings import DepthSettings


def create_estimator(
    settings: DepthSettings, *, device: str = "auto", torch_threads: int = 0
) -> DepthEstimator:
    """The estimator for the configured backend (torch through transformers)."""
    return DepthEstimator(settings, device=device, torch_threads=torch_threads)
