"""Tiny models exported to ONNX once per session, beside their torch originals: parity and serving tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from apis.depth.backends import create_estimator
from apis.depth.demo import build_random_depth_anything
from apis.depth.model import DepthEstimator
from apis.depth.onnx_model import OnnxDepthEstimator
from apis.depth.settings import DepthSettings
from apis.detection.backends import create_detector
from apis.detection.model import YoloDetector
from apis.detection.onnx_model import OnnxYoloDetector
from apis.detection.settings import DetectionSettings
from apis.export.depth import export_depth
from apis.export.detection import export_detection

# Small enough for two shared cores; the model's own preprocessor says 518.
DEPTH_INPUT_SIZE = 266
# Modules the onnx services must never need.
BLOCKED_MODULES = ("torch", "torchvision", "ultralytics", "transformers")


@pytest.fixture(scope="session")
def detection_settings(tiny_yolo_weights, tmp_path_factory) -> DetectionSettings:
    """Settings of the onnx backend, with the tiny YOLO exported by the real exporter."""
    folder = tmp_path_factory.mktemp("onnx-detection")
    settings = DetectionSettings(
        weights=str(tiny_yolo_weights), allow_download=False, backend="onnx", onnx_path=folder / "yolo.onnx"
    )
    export_detection(settings, settings.onnx_path, settings.onnx_manifest_path)
    return settings


@pytest.fixture(scope="session")
def torch_detector(detection_settings) -> YoloDetector:
    detector = create_detector(detection_settings.model_copy(update={"backend": "torch"}), device="cpu")
    detector.load()
    return detector


@pytest.fixture(scope="session")
def onnx_detector(detection_settings) -> OnnxYoloDetector:
    detector = create_detector(detection_settings, device="cpu")
    detector.load()
    return detector


def _depth_settings(tmp_path_factory, *, metric: bool) -> DepthSettings:
    name = "tiny-da-v2-metric" if metric else "tiny-da-v2"
    model = build_random_depth_anything(tmp_path_factory.mktemp("depth") / name, tiny=True, metric=metric)
    folder = tmp_path_factory.mktemp("onnx-depth")
    settings = DepthSettings(
        model=str(model),
        allow_download=False,
        input_size=DEPTH_INPUT_SIZE,
        backend="onnx",
        onnx_path=folder / f"{name}.onnx",
    )
    export_depth(settings, settings.onnx_path, settings.onnx_manifest_path)
    return settings


@pytest.fixture(scope="session")
def depth_settings(tmp_path_factory) -> DepthSettings:
    """Settings of the onnx backend, with a tiny relative Depth Anything V2 exported to ONNX."""
    return _depth_settings(tmp_path_factory, metric=False)


@pytest.fixture(scope="session")
def metric_depth_settings(tmp_path_factory) -> DepthSettings:
    """The same with the metric head (meters, up to 20)."""
    return _depth_settings(tmp_path_factory, metric=True)


@pytest.fixture(scope="session", params=["relative", "metric"])
def depth_pair(request, depth_settings, metric_depth_settings) -> tuple[DepthEstimator, OnnxDepthEstimator]:
    """The torch and the onnx estimator of the same tiny model, both loaded."""
    settings = depth_settings if request.param == "relative" else metric_depth_settings
    original = create_estimator(settings.model_copy(update={"backend": "torch"}), device="cpu")
    exported = create_estimator(settings, device="cpu")
    original.load()
    exported.load()
    return original, exported


@pytest.fixture(scope="session")
def no_torch_path(tmp_path_factory) -> Path:
    """A PYTHONPATH folder whose ``torch``, ``ultralytics`` ... modules raise ImportError when imported.

    It comes before site-packages, so a child process started with it cannot import the real ones.
    """
    folder = tmp_path_factory.mktemp("no-torch")
    for name in BLOCKED_MODULES:
        (folder / f"{name}.py").write_text(
            f"raise ModuleNotFoundError({f'{name} is blocked: the onnx backend must not need it'!r}, "
            f"name={name!r})\n"
        )
    return folder
