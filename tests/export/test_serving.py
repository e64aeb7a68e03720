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
from tests.export.conftest import BLOCKED_MODULES
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


def _ask_both(torch_service, endpoint: str, env: dict[str, str], form: dict, photo: bytes, tmp_path, blocker):
    """``/model-info`` and the answer to ``photo`` of the onnx service run by gunicorn with torch
    blocked, and the answer of ``torch_service`` in this process to the same request."""
    route = torch_service.route
    path = f"{route.path_prefix}{endpoint}"
    port = free_port()
    env = {**env, "PYTHONPATH": str(blocker), "DEVICE": "cpu", "GUNICORN_THREADS": "2"}
    command = gunicorn_command(route.wsgi_app, port)
    with run_server(command, port=port, health_path=route.health_path, workdir=tmp_path, env=env) as server:
        info = requests.get(f"{server.url}{route.path_prefix}/model-info", timeout=10).json()
        files = {"image": ("bus.jpg", photo)}
        answer = requests.post(f"{server.url}{path}", files=files, data=form, timeout=60)
    assert answer.status_code == 200, answer.text
    assert "blocked" not in server.output()
    client = create_app(torch_service, CoreSettings(), load_in_background=False).test_client()
    reference = client.post(path, data={**form, "image": (io.BytesIO(photo), "bus.jpg")})
    assert reference.status_code == 200
    return info, answer.json(), reference.get_json()


def test_detection_serves_without_torch(detection_settings, no_torch_path, tmp_path, photo_bytes):
    s = detection_settings
    env = {
        "DETECTION_BACKEND": "onnx",
        "DETECTION_WEIGHTS": s.weights,
        "DETECTION_ONNX_PATH": str(s.onnx_path),
    }
    torch_service = DetectionService(s.model_copy(update={"backend": "torch"}), CoreSettings(device="cpu"))
    form = {"include_image": "true", "conf": "0.2"}

    info, onnx_body, torch_body = _ask_both(
        torch_service, "/detect", env, form, photo_bytes["bus.jpg"], tmp_path, no_torch_path
    )

    assert info["backend"] == onnx_body["model"]["backend"] == "onnx"
    assert info["weights_path"] == str(s.onnx_path)
    assert shape_of(onnx_body) == shape_of(torch_body)
    assert onnx_body["detection_count"] == torch_body["detection_count"] > 0
    classes = [d["class_id"] for d in onnx_body["detections"]]
    assert classes == [d["class_id"] for d in torch_body["detections"]]
    assert onnx_body["annotated_image"].startswith("data:image/jpeg;base64,")


def test_depth_serves_without_torch(depth_settings, no_torch_path, tmp_path, photo_bytes):
    s = depth_settings
    env = {
        "DEPTH_BACKEND": "onnx",
        "DEPTH_MODEL": s.model,
        "DEPTH_ONNX_PATH": str(s.onnx_path),
        "DEPTH_INPUT_SIZE": str(s.input_size),
        "MPLCONFIGDIR": str(tmp_path / "matplotlib"),
    }
    torch_service = DepthService(s.model_copy(update={"backend": "torch"}), CoreSettings(device="cpu"))
    box = {"x1": 50, "y1": 400, "x2": 250, "y2": 900}
    form = {"detections": json.dumps([{"class_name": "person", "bbox": box}]), "include_depth_map": "true"}

    info, onnx_body, torch_body = _ask_both(
        torch_service, "/predict_depth", env, form, photo_bytes["bus.jpg"], tmp_path, no_torch_path
    )

    assert info["backend"] == "onnx" and info["parameters"] > 0
    assert info["model_path"] == str(s.onnx_path)
    assert shape_of(onnx_body) == shape_of(torch_body)
    assert onnx_body["depth_semantics"] == torch_body["depth_semantics"]
    assert onnx_body["depth_map"]["width"] == 810 and onnx_body["depth_map"]["height"] == 1080
    near = onnx_body["depth_at_objects"][0]["depth_median"]
    assert near == pytest.approx(torch_body["depth_at_objects"][0]["depth_median"], rel=1e-2)
