"""API keys (``apis/core/auth.py``): off by default, then every route but health needs a valid key."""

from __future__ import annotations

import io
import threading

import pytest
import requests

from apis.core import auth
from apis.core.app import create_app
from apis.core.auth import API_KEY_HEADER, ApiKeys
from apis.core.settings import CoreSettings
from apis.detection.service import DetectionService
from delivery.routes import DETECTION
from tests.support.servers import run_api

OLD_KEY = "old-key-0123456789abcdef"
NEW_KEY = "new-key-fedcba9876543210"


def test_no_keys_configured_means_no_check() -> None:
    keys = ApiKeys.from_env({})
    assert not keys.required
    assert not ApiKeys.from_env({"API_KEYS": " , \n"}).required


def test_several_keys_are_accepted_at_once_for_rotation() -> None:
    keys = ApiKeys.from_env({"API_KEYS": f"{OLD_KEY},\n {NEW_KEY} "})
    assert keys.required
    assert keys.accepts(OLD_KEY) and keys.accepts(NEW_KEY)
    for wrong in (None, "", OLD_KEY[:-1], OLD_KEY + "x", f"{OLD_KEY},{NEW_KEY}", OLD_KEY.upper()):
        assert not keys.accepts(wrong), wrong


def test_short_keys_are_refused_at_start() -> None:
    with pytest.raises(ValueError, match="position \\[1\\]"):
        ApiKeys([OLD_KEY, "short"])


def test_create_app_reads_the_keys_from_the_environment(detection_settings, monkeypatch) -> None:
    core = CoreSettings(max_upload_mb=1.0, max_pixels=4_000_000)
    monkeypatch.setenv("API_KEYS", NEW_KEY)
    guarded = create_app(
        DetectionService(detection_settings, core), core, load_in_background=False
    ).test_client()
    assert guarded.get("/yoloapi/model-info").status_code == 401
    assert guarded.get("/yoloapi/model-info", headers={API_KEY_HEADER: NEW_KEY}).status_code == 200
    monkeypatch.delenv("API_KEYS")
    open_app = create_app(DetectionService(detection_settings, core), core, load_in_background=False)
    assert open_app.test_client().get("/yoloapi/model-info").status_code == 200, "no key needed by default"


@pytest.fixture(scope="module")
def guarded_client(detection_settings):
    core = CoreSettings(max_upload_mb=1.0, max_pixels=4_000_000, cors_origins="https://app.example.com")
    app = create_app(DetectionService(detection_settings, core), core, load_in_background=False)
    auth.init_app(app, health_paths=("/health", "/yoloapi/health"), keys=ApiKeys([OLD_KEY, NEW_KEY]))
    return app.test_client()


def _detect(client, photo: bytes, **headers):
    return client.post(
        "/yoloapi/detect",
        data={"image": (io.BytesIO(photo), "p.jpg")},
        content_type="multipart/form-data",
        headers=headers,
    )


def test_a_request_without_or_with_a_wrong_key_gets_a_json_401(guarded_client, photo_bytes) -> None:
    for headers in ({}, {API_KEY_HEADER: "not-the-key-at-all-0000"}):
        response = _detect(guarded_client, photo_bytes["demo08.jpg"], **headers)
        assert response.status_code == 401
        assert response.get_json() == {
            "success": False,
            "error": f"a valid {API_KEY_HEADER} header is required",
            "code": "unauthorized",
        }
        assert "X-Request-ID" in response.headers
    for path in ("/yoloapi/metrics", "/yoloapi/model-info", "/yoloapi/openapi.json", "/metrics"):
        assert guarded_client.get(path).status_code == 401, path


def test_either_key_is_accepted(guarded_client, photo_bytes) -> None:
    for key in (OLD_KEY, NEW_KEY):
        response = _detect(guarded_client, photo_bytes["demo08.jpg"], **{API_KEY_HEADER: key})
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["success"] is True


def test_health_and_cors_preflight_need_no_key(guarded_client) -> None:
    assert guarded_client.get("/yoloapi/health").status_code == 200
    assert guarded_client.get("/health").status_code == 200
    preflight = guarded_client.options(
        "/yoloapi/detect",
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": API_KEY_HEADER,
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert API_KEY_HEADER.lower() in preflight.headers["Access-Control-Allow-Headers"].lower()


def test_cors_answers_only_configured_origins(guarded_client) -> None:
    response = guarded_client.get("/yoloapi/health", headers={"Origin": "https://evil.example.net"})
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.slow
def test_a_running_api_checks_the_keys_from_its_environment(tmp_path, tiny_yolo_weights, photo_bytes) -> None:
    env = {"DETECTION_WEIGHTS": str(tiny_yolo_weights), "API_KEYS": f"{OLD_KEY},{NEW_KEY}"}
    with run_api(DETECTION, workdir=tmp_path, env=env) as server:
        files = {"image": ("a.jpg", photo_bytes["demo08.jpg"])}
        assert requests.get(f"{server.url}/yoloapi/health", timeout=10).status_code == 200
        refused = requests.post(f"{server.url}/yoloapi/detect", files=files, timeout=60)
        assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
        accepted = requests.post(
            f"{server.url}/yoloapi/detect", files=files, headers={API_KEY_HEADER: NEW_KEY}, timeout=60
        )
        assert accepted.status_code == 200 and accepted.json()["success"] is True


def test_the_web_page_client_sends_the_first_key(detection_settings, photo_bytes) -> None:
    """The page's server calls guarded APIs (public_apis on AWS) with the first of the keys it is given."""
    from werkzeug.serving import make_server

    from ui.client import ApiCallError, ApiClient
    from ui.settings import UiSettings

    core = CoreSettings(max_upload_mb=1.0, max_pixels=4_000_000)
    app = create_app(DetectionService(detection_settings, core), core, load_in_background=False)
    auth.init_app(app, health_paths=("/yoloapi/health",), keys=ApiKeys([NEW_KEY]))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/yoloapi"
    try:
        settings = {"detection_api_url": url, "depth_api_url": url}
        with_key = ApiClient(UiSettings(**settings, API_KEYS=f"{NEW_KEY},{OLD_KEY}"))
        assert with_key.detect(photo_bytes["demo08.jpg"], "a.jpg", conf=0.25, iou=0.45).objects is not None
        with pytest.raises(ApiCallError, match="X-API-Key header is required"):
            ApiClient(UiSettings(**settings)).detect(photo_bytes["demo08.jpg"], "a.jpg", conf=0.25, iou=0.45)
    finally:
        server.shutdown()
        thread.join(5)
