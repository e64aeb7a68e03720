"""The detection factory gives each backend only the settings it uses (nothing is loaded here)."""

from __future__ import annotations

from pathlib import Path

from apis.detection.backends import DetectParams, OnnxDetectorConfig, TorchDetectorConfig, create_detector
from apis.detection.settings import DetectionSettings

SETTINGS = dict(
    weights="custom.pt",
    weights_dir=Path("/cache/weights"),
    allow_download=False,
    conf=0.3,
    iou=0.6,
    imgsz=320,
    max_det=50,
    onnx_path=Path("/models/yolo.onnx"),
    onnx_manifest=None,
)
DEFAULTS = DetectParams(conf=0.3, iou=0.6, imgsz=320, max_det=50)


def test_the_torch_backend_gets_the_weights_settings_and_no_onnx_paths():
    detector = create_detector(DetectionSettings(**SETTINGS, backend="torch"), device="cpu", torch_threads=3)

    assert detector.backend == "torch"
    assert detector.config == TorchDetectorConfig(
        weights="custom.pt",
        weights_dir=Path("/cache/weights"),
        allow_download=False,
        defaults=DEFAULTS,
        device="cpu",
        torch_threads=3,
    )
    assert detector.default_params() == DEFAULTS


def test_the_onnx_backend_gets_the_export_and_no_weights_cache_or_download_switch():
    detector = create_detector(DetectionSettings(**SETTINGS, backend="onnx"), device="cpu", torch_threads=3)

    assert detector.backend == "onnx"
    assert detector.config == OnnxDetectorConfig(
        onnx_path=Path("/models/yolo.onnx"),
        onnx_manifest_path=Path("/models/yolo.json"),  # DETECTION_ONNX_MANIFEST unset: beside the export
        weights="custom.pt",
        defaults=DEFAULTS,
        device="cpu",
        threads=3,  # TORCH_THREADS sizes ONNX Runtime's pool too
    )
    assert detector.default_params() == DEFAULTS
