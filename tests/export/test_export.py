"""``python -m apis.export``: the files, their manifests, and the checks the onnx backends make on load."""

from __future__ import annotations

import json
import shutil

import pytest

from apis.core.errors import ModelLoadError
from apis.depth.backends import create_estimator
from apis.depth.model import DepthEstimator
from apis.depth.onnx_model import OnnxDepthEstimator
from apis.detection.backends import create_detector
from apis.detection.model import YoloDetector
from apis.detection.onnx_model import OnnxYoloDetector
from apis.export import __main__ as cli
from apis.runtimes.onnx_manifest import Manifest, sha256_of


def test_detection_manifest_describes_the_export(detection_settings, torch_detector):
    manifest = Manifest.read(detection_settings.onnx_manifest_path)

    assert manifest.service == "detection"
    assert manifest.source == detection_settings.weights
    assert manifest.onnx_file == detection_settings.onnx_path.name
    assert manifest.sha256 == sha256_of(detection_settings.onnx_path)
    assert manifest.opset >= 11
    assert manifest.names == torch_detector.names
    assert manifest.input == {"name": "images", "height": None, "width": None, "stride": 32, "size": 640}
    assert {"torch", "ultralytics", "onnx"} <= set(manifest.exported_with)


def test_depth_manifest_describes_the_export(depth_settings):
    manifest = Manifest.read(depth_settings.onnx_manifest_path)

    assert manifest.service == "depth"
    assert manifest.source == depth_settings.model
    assert manifest.sha256 == sha256_of(depth_settings.onnx_path)
    assert manifest.depth["semantics"] == "relative_inverse" and manifest.depth["max_depth"] is None
    assert manifest.depth["preprocess"] == {
        "keep_aspect_ratio": True,
        "ensure_multiple_of": 14,
        "resample": 3,
        "rescale_factor": 1 / 255,
        "image_mean": [0.485, 0.456, 0.406],
        "image_std": [0.229, 0.224, 0.225],
    }
    assert manifest.input["height"] is None and manifest.input["width"] is None


def test_the_command_writes_both_files_into_out(depth_settings, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DEPTH_MODEL", depth_settings.model)
    monkeypatch.setenv("DEPTH_ALLOW_DOWNLOAD", "false")

    assert cli.main(["--service", "depth", "--out", str(tmp_path)]) == 0

    assert sorted(p.name for p in tmp_path.iterdir()) == ["depth.json", "depth.onnx"]
    manifest = json.loads((tmp_path / "depth.json").read_text())
    assert manifest["sha256"] == sha256_of(tmp_path / "depth.onnx")
    assert f"depth: {tmp_path / 'depth.onnx'}" in capsys.readouterr().out


def test_the_command_fails_cleanly_without_weights(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DETECTION_WEIGHTS", str(tmp_path / "missing.pt"))

    with pytest.raises(SystemExit) as exited:
        cli.main(["--service", "detection", "--out", str(tmp_path)])

    assert exited.value.code == 1
    assert "missing.pt" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_each_backend_setting_picks_its_implementation(detection_settings, depth_settings):
    torch_settings = detection_settings.model_copy(update={"backend": "torch"})

    assert type(create_detector(detection_settings)) is OnnxYoloDetector
    assert type(create_detector(torch_settings)) is YoloDetector
    assert type(create_estimator(depth_settings)) is OnnxDepthEstimator
    assert type(create_estimator(depth_settings.model_copy(update={"backend": "torch"}))) is DepthEstimator
    assert OnnxYoloDetector.backend == OnnxDepthEstimator.backend == "onnx"


@pytest.fixture()
def copied_export(detection_settings, tmp_path):
    """The detection export copied, so a test may damage it."""
    onnx_path = tmp_path / "copy.onnx"
    shutil.copy(detection_settings.onnx_path, onnx_path)
    shutil.copy(detection_settings.onnx_manifest_path, tmp_path / "copy.json")
    return detection_settings.model_copy(update={"onnx_path": onnx_path})


def _load_error(settings) -> str:
    with pytest.raises(ModelLoadError) as failed:
        create_detector(settings, device="cpu").load()
    return str(failed.value)


def test_a_changed_onnx_file_is_refused(copied_export):
    with copied_export.onnx_path.open("ab") as stream:
        stream.write(b"\0")

    assert "does not match the checksum" in _load_error(copied_export)


def test_an_export_of_other_weights_is_refused(copied_export):
    message = _load_error(copied_export.model_copy(update={"weights": "yolov8s.pt"}))

    assert "was exported from" in message and "yolov8s.pt" in message and "make export" in message


def test_a_missing_export_says_how_to_make_it(copied_export, tmp_path):
    message = _load_error(copied_export.model_copy(update={"onnx_path": tmp_path / "none.onnx"}))

    assert "does not exist" in message and "make export" in message


def test_a_manifest_of_the_other_service_is_refused(copied_export, depth_settings):
    shutil.copy(depth_settings.onnx_manifest_path, copied_export.onnx_manifest_path)

    assert "describes a depth model" in _load_error(copied_export)


def test_cuda_without_a_cuda_build_fails_clearly(copied_export):
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this onnxruntime has CUDA")
    with pytest.raises(ModelLoadError, match="no CUDA provider"):
        create_detector(copied_export, device="cuda:0").load()
