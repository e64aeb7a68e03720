"""The depth factory gives each backend only the settings it uses (nothing is loaded here)."""

from __future__ import annotations

from pathlib import Path

from apis.depth.backends import OnnxDepthConfig, TorchDepthConfig, create_estimator
from apis.depth.settings import DepthSettings

SETTINGS = dict(
    model="org/depth-model",
    cache_dir=Path("/cache/hf"),
    revision="v2",
    allow_download=False,
    input_size=266,
    max_tokens=900,
    onnx_path=Path("/models/depth.onnx"),
    onnx_manifest=Path("/models/manifest.json"),
)


def test_the_torch_backend_gets_the_model_settings_and_no_onnx_paths():
    estimator = create_estimator(DepthSettings(**SETTINGS, backend="torch"), device="cpu", torch_threads=3)

    assert estimator.backend == "torch"
    assert estimator.config == TorchDepthConfig(
        model="org/depth-model",
        cache_dir=Path("/cache/hf"),
        revision="v2",
        allow_download=False,
        input_size=266,
        max_tokens=900,
        device="cpu",
        torch_threads=3,
    )


def test_the_onnx_backend_gets_the_export_and_no_model_cache_revision_or_download_switch():
    estimator = create_estimator(DepthSettings(**SETTINGS, backend="onnx"), device="cpu", torch_threads=3)

    assert estimator.backend == "onnx"
    assert estimator.config == OnnxDepthConfig(
        onnx_path=Path("/models/depth.onnx"),
        onnx_manifest_path=Path("/models/manifest.json"),
        model="org/depth-model",
        input_size=266,
        max_tokens=900,
        device="cpu",
        threads=3,  # TORCH_THREADS sizes ONNX Runtime's pool too
    )
