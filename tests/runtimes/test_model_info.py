"""``/model-info`` and every answer's ``model`` block report the real device, provider and precision."""

from __future__ import annotations

import io
import logging

import onnxruntime
import pytest
import torch

from apis.core.app import create_app
from apis.core.errors import ModelLoadError
from apis.core.settings import CoreSettings
from apis.depth.backends import create_estimator
from apis.depth.demo import build_random_depth_anything
from apis.depth.settings import DepthSettings
from apis.detection.service import DetectionService
from apis.detection.settings import DetectionSettings
from apis.export.detection import export_detection
from apis.runtimes.onnx_session import CPU, CUDA


@pytest.fixture(scope="module")
def torch_settings(tiny_yolo_weights) -> DetectionSettings:
    return DetectionSettings(weights=str(tiny_yolo_weights), allow_download=False)


@pytest.fixture(scope="module")
def onnx_settings(torch_settings, tmp_path_factory) -> DetectionSettings:
    path = tmp_path_factory.mktemp("onnx-detection") / "yolo.onnx"
    settings = torch_settings.model_copy(update={"backend": "onnx", "onnx_path": path})
    export_detection(settings, settings.onnx_path, settings.onnx_manifest_path)
    return settings


def client_for(settings: DetectionSettings, core: CoreSettings):
    return create_app(DetectionService(settings, core), core, load_in_background=False).test_client()


def test_the_torch_backend_reports_cpu_torch_and_fp32(torch_settings, photo_bytes):
    client = client_for(torch_settings, CoreSettings(device="auto", half="auto"))
    info = client.get("/model-info").get_json()
    expected = {"device": "cpu", "provider": "torch", "precision": "fp32"}
    assert {key: info[key] for key in expected} == expected
    answer = client.post("/detect", data={"image": (io.BytesIO(photo_bytes["bus.jpg"]), "bus.jpg")})
    assert answer.status_code == 200
    assert {key: answer.get_json()["model"][key] for key in expected} == expected


def test_the_onnx_backend_reports_the_provider_that_runs(onnx_settings):
    info = client_for(onnx_settings, CoreSettings(device="cpu")).get("/model-info").get_json()
    assert (info["backend"], info["device"], info["provider"], info["precision"]) == (
        "onnx",
        "cpu",
        CPU,
        "fp32",
    )


@pytest.mark.filterwarnings("ignore:Specified provider 'CUDAExecutionProvider':UserWarning")
def test_a_cuda_provider_that_does_not_start_is_reported_as_the_cpu_it_fell_back_to(
    onnx_settings, monkeypatch, caplog
):
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: [CUDA, CPU])
    caplog.set_level(logging.INFO, logger="apis.runtimes")
    info = client_for(onnx_settings, CoreSettings(device="auto")).get("/model-info").get_json()
    assert (info["device"], info["provider"]) == ("cpu", CPU)
    [line] = [m for m in caplog.messages if m.startswith("detection: ")]
    assert line.startswith(
        f"detection: {CPU} runs yolo.onnx on cpu (fp32); DEVICE=auto: the CUDA provider is"
    )
    with pytest.raises(
        ModelLoadError, match="DEVICE=cuda, but the CUDA provider is listed but did not start"
    ):
        DetectionService(onnx_settings, CoreSettings(device="cuda")).setup()


def test_a_cuda_device_or_half_the_machine_cannot_give_fails_at_start(torch_settings):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ModelLoadError, match="sees no CUDA device"):
        DetectionService(torch_settings, CoreSettings(device="cuda")).setup()
    with pytest.raises(ModelLoadError, match="HALF=true needs a CUDA device"):
        DetectionService(torch_settings, CoreSettings(device="cpu", half="true")).setup()


def test_fp32_stays_fp32_on_the_cpu(tmp_path):
    folder = build_random_depth_anything(tmp_path / "tiny-da", tiny=True)
    estimator = create_estimator(
        DepthSettings(model=str(folder), allow_download=False, input_size=70), device="auto"
    )
    estimator.load()
    assert estimator.placement.precision == "fp32"
    assert {p.dtype for p in estimator._model.parameters()} == {torch.float32}
