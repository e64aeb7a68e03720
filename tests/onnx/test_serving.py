"""The onnx services start and serve through gunicorn where torch cannot be imported, answering like torch."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
import requests

from apis.core.app import create_app
from apis.core.settings import CoreSettings
from apis.depth.service import DepthService
from apis.detection.service import DetectionService
from apis.routes import DEPTH, DETECTION
from tests.onnx.conftest import BLOCKED_MODULES
from tests.support.servers import free_port, gunicorn_command, run_server

pytestmark = pytest.mark.slow


def shape_of(value):
    """The structure of a JSON value: keys, element shapes and value kinds, not the values."""
    if isinstance(value, dict):
        return {key: shape_of(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape_of(value[0])] if value else []
    if isinstance(value, bool) or value is None:
        return type(value).__name__
    return "number" if isinstance(value, int | float) else type(value).__name__


def test_the_blocker_stops_torch_in_a_child_process(no_torch_path):
    env = {**os.environ, "PYTHONPATH": str(no_torch_path)}
    for name in BLOCKED_MODULES:
        done = subprocess.run(
            [sys.executable, "-c", f"import {name}"], env=env, capture_output=True, text=True
        )
        assert done.returncode != 0 and "is blocked" in done.stderr, name


def _serve(wsgi: str, route, env: dict[str, str], no_torch_path, tmp_path):
    port = free_port()
    env = {**env, "PYTHONPATH": str(no_torch_path), "DEVICE": "cpu", "GUNICORN_THREADS": "2"}
    return run_server(
        gunicorn_command(wsgi, port), port=port, health_path=route.health_path, workdir=tmp_path, env=env
    )


def _torch_client(service):
    core = CoreSettings()
    app = create_app(service, core, load_in_background=False)
    return app.test_client()


def test_detection_serves_without_torch(detection_settings, no_torch_path, tmp_path, photo_bytes):
    s = detection_settings
    env = {
        "DETECTION_BACKEND": "onnx",
        "DETECTION_WEIGHTS": s.weights,
        "DETECTION_ONNX_PATH": str(s.onnx_path),
        "DETECTION_ALLOW_DOWNLOAD": "false",
    }
    form = {"include_image": "true", "conf": "0.2"}
    with _serve("apis.detection.wsgi:app", DETECTION, env, no_torch_path, tmp_path) as server:
        info = requests.get(f"{server.url}/yoloapi/model-info", timeout=10).json()
        answer = requests.post(
            f"{server.url}/yoloapi/detect",
            files={"image": ("bus.jpg", photo_bytes["bus.jpg"])},
            data=form,
            timeout=60,
        )
    assert answer.status_code == 200, answer.text
    onnx_body = answer.json()
    assert info["backend"] == "onnx" and onnx_body["model"]["backend"] == "onnx"
    assert info["weights_path"] == str(s.onnx_path)

    torch_service = DetectionService(s.model_copy(update={"backend": "torch"}), CoreSettings(device="cpu"))
    torch_answer = _torch_client(torch_service).post(
        "/yoloapi/detect", data={**form, "image": (io.BytesIO(photo_bytes["bus.jpg"]), "bus.jpg")}
    )
    torch_body = torch_answer.get_json()
    assert shape_of(onnx_body) == shape_of(torch_body)
    assert onnx_body["detection_count"] == torch_body["detection_count"] > 0
    assert [d["class_id"] for d in onnx_body["detections"]] == [
        d["class_id"] for d in torch_body["detections"]
    ]
    assert onnx_body["annotated_image"].startswith("data:image/jpeg;base64,")
    assert "blocked" not in server.output()


def test_depth_serves_without_torch(depth_settings, no_torch_path, tmp_path, photo_bytes):
    s = depth_settings
    env = {
        "DEPTH_BACKEND": "onnx",
        "DEPTH_MODEL": s.model,
        "DEPTH_ONNX_PATH": str(s.onnx_path),
        "DEPTH_INPUT_SIZE": str(s.input_size),
        "DEPTH_ALLOW_DOWNLOAD": "false",
        "MPLCONFIGDIR": str(tmp_path / "matplotlib"),
    }
    detections = [
        {"class_name": "person", "confidence": 0.9, "bbox": {"x1": 50, "y1": 400, "x2": 250, "y2": 900}}
    ]
    form = {"detections": json.dumps(detections), "include_depth_map": "true"}
    with _serve("apis.depth.wsgi:app", DEPTH, env, no_torch_path, tmp_path) as server:
        info = requests.get(f"{server.url}/depthapi/model-info", timeout=10).json()
        answer = requests.post(
            f"{server.url}/depthapi/predict_depth",
            files={"image": ("bus.jpg", photo_bytes["bus.jpg"])},
            data=form,
            timeout=60,
        )
    assert answer.status_code == 200, answer.text
    onnx_body = answer.json()
    assert info["backend"] == "onnx" and info["parameters"] > 0
    assert info["model_path"] == str(s.onnx_path)

    torch_service = DepthService(s.model_copy(update={"backend": "torch"}), CoreSettings(device="cpu"))
    torch_answer = _torch_client(torch_service).post(
        "/depthapi/predict_depth",
        data={**form, "image": (io.BytesIO(photo_bytes["bus.jpg"]), "bus.jpg")},
    )
    torch_body = torch_answer.get_json()
    assert shape_of(onnx_body) == shape_of(torch_body)
    assert onnx_body["depth_semantics"] == torch_body["depth_semantics"]
    assert onnx_body["depth_map"]["width"] == 810 and onnx_body["depth_map"]["height"] == 1080
    near = onnx_body["depth_at_objects"][0]["depth_median"]
    assert near == pytest.approx(torch_body["depth_at_objects"][0]["depth_median"], rel=1e-2)
