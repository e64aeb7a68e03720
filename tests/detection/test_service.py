"""Lifecycle, prefix routes, metrics and concurrency of the detection service."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from apis.core.app import create_app
from apis.core.service import ModelLoadError, ModelState
from apis.core.settings import CoreSettings
from apis.detection.service import DetectionService
from apis.detection.settings import DetectionSettings
from apis.detection.weights import resolve_weights
from delivery.routes import DETECTION
from tests.support.metrics import metric_value
from tests.support.servers import run_api


def detect(client, data: bytes, path: str = "/detect", **fields):
    form = {"image": (io.BytesIO(data), "photo.jpg"), **fields}
    return client.post(path, data=form, content_type="multipart/form-data")


class GatedDetectionService(DetectionService):
    """The real service, whose loading waits until the test opens the gate."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.may_load = threading.Event()

    def setup(self) -> None:
        self.may_load.wait(60)
        super().setup()


def test_health_is_503_until_the_model_is_loaded_and_warm(detection_settings, photo_bytes):
    service = GatedDetectionService(detection_settings)
    app = create_app(service, CoreSettings())
    client = app.test_client()

    loading = client.get("/yoloapi/health")
    assert loading.status_code == 503
    assert loading.get_json()["status"] == "loading"
    busy = detect(client, photo_bytes["demo08.jpg"])
    assert busy.status_code == 503
    assert busy.get_json()["code"] == "model_loading"
    assert "Retry-After" in busy.headers

    service.may_load.set()
    assert app.extensions["model_host"].wait(120) is ModelState.READY
    ready = client.get("/yoloapi/health")
    assert ready.status_code == 200
    assert ready.get_json()["status"] == "ok"
    assert detect(client, photo_bytes["demo08.jpg"]).status_code == 200


def test_missing_weights_fail_fast_and_health_says_why(tmp_path):
    settings = DetectionSettings(
        weights=str(tmp_path / "nope.pt"), weights_dir=tmp_path, allow_download=False
    )
    app = create_app(DetectionService(settings), CoreSettings(), load_in_background=False)
    response = app.test_client().get("/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "failed"
    assert "nope.pt" in body["error"] and "MODELS=demo" in body["error"]


def test_named_weights_are_not_downloaded_when_downloads_are_off(tmp_path):
    with pytest.raises(ModelLoadError, match="DETECTION_ALLOW_DOWNLOAD is false"):
        resolve_weights("yolo11n.pt", tmp_path, allow_download=False)


def test_unknown_weight_names_are_never_sent_to_a_download(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        resolve_weights("my-typo.pt", tmp_path, allow_download=True)


def test_cached_weights_are_used_by_name(tmp_path, tiny_yolo_weights):
    cached = tmp_path / "yolo11n.pt"
    cached.write_bytes(tiny_yolo_weights.read_bytes())
    assert resolve_weights("yolo11n.pt", tmp_path, allow_download=False) == cached


@pytest.mark.parametrize("prefix", ["", "/yoloapi"])
def test_every_route_is_served_at_the_root_and_under_the_prefix(client, photo_bytes, prefix):
    assert client.get(f"{prefix}/health").status_code == 200
    info = client.get(f"{prefix}/model-info").get_json()
    assert info["classes"]["0"] == "person" and info["device"] == "cpu"
    assert info["defaults"] == {"conf": 0.25, "iou": 0.45, "imgsz": 640, "max_det": 300}
    assert client.get(f"{prefix}/metrics").status_code == 200
    assert detect(client, photo_bytes["demo08.jpg"], path=f"{prefix}/detect").status_code == 200


def test_path_prefix_comes_from_the_environment(detection_settings, monkeypatch):
    monkeypatch.setenv("PATH_PREFIX", "/custom/")
    core = CoreSettings()
    app = create_app(DetectionService(detection_settings, core), core, load_in_background=False)
    client = app.test_client()
    assert client.get("/custom/health").status_code == 200
    assert client.get("/yoloapi/health").status_code == 404


def test_cors_headers_for_browser_clients(client):
    response = client.options(
        "/yoloapi/detect", headers={"Origin": "http://example.test", "Access-Control-Request-Method": "POST"}
    )
    assert response.headers.get("Access-Control-Allow-Origin") in ("*", "http://example.test")


def test_metrics_counters_move(client, photo_bytes):
    ok_before = metric_value(client, "api_requests_total", endpoint="/detect", status="200")
    bad_before = metric_value(client, "api_errors_total", code="invalid_image")
    inference_before = metric_value(client, "model_inference_seconds_count")
    detect(client, photo_bytes["demo08.jpg"])
    detect(client, b"not an image")
    assert metric_value(client, "api_requests_total", endpoint="/detect", status="200") == ok_before + 1
    assert metric_value(client, "api_errors_total", code="invalid_image") == bad_before + 1
    assert metric_value(client, "model_inference_seconds_count") == inference_before + 1
    assert metric_value(client, "model_ready") == 1.0


def test_concurrent_requests_get_their_own_correct_results(client, photo_bytes):
    names = ["bus.jpg", "zidane.jpg", "demo08.jpg", "TEST.jpg"]
    expected = {name: detect(client, photo_bytes[name]).get_json()["detections"] for name in names}
    jobs = names * 3

    def run(name: str):
        return name, detect(client, photo_bytes[name]).get_json()

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(run, jobs))
    for name, body in results:
        assert body["success"] is True
        assert body["detections"] == expected[name]


@pytest.mark.slow
def test_real_gunicorn_server(tmp_path, tiny_yolo_weights, photo_bytes):
    env = {"DETECTION_WEIGHTS": str(tiny_yolo_weights), "GUNICORN_THREADS": "2"}
    with run_api(DETECTION, workdir=tmp_path, env=env) as server:
        response = requests.post(
            f"{server.url}/yoloapi/detect",
            files={"image": ("bus.jpg", photo_bytes["bus.jpg"])},
            data={"include_image": "true"},
            timeout=30,
        )
        assert response.status_code == 200
        body = response.json()
        assert body["detection_count"] > 0 and body["annotated_image"].startswith("data:image/jpeg;base64,")
        assert response.headers["X-Request-ID"]
        raw = requests.post(
            f"{server.url}/detect",
            data=photo_bytes["demo08.jpg"],
            headers={"Content-Type": "image/jpeg"},
            timeout=30,
        )
        assert raw.status_code == 200
        missing = requests.post(f"{server.url}/detect", timeout=30)
        assert missing.status_code == 400 and missing.json()["code"] == "missing_image"
    assert "POST /yoloapi/detect 200" in server.output()
