"""The published OpenAPI description, and property-based fuzzing of the running API from it."""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate

from tests.support.fuzzing import assert_json_error_shape, broken_images, valid_images
from tests.support.servers import free_port, gunicorn_command, run_server

schemathesis.openapi.format("binary", valid_images())
for media_type in ("image/jpeg", "image/png", "image/webp", "image/bmp", "image/gif", "image/tiff"):
    schemathesis.openapi.media_type(media_type, valid_images())


@pytest.mark.parametrize("path", ["/openapi.json", "/yoloapi/openapi.json"])
def test_the_document_is_valid_openapi_3(client, path):
    document = client.get(path).get_json()
    assert document["openapi"].startswith("3.")
    validate(document)


def test_every_served_route_is_documented(detection_app, client):
    paths = client.get("/openapi.json").get_json()["paths"]
    for rule in detection_app.url_map.iter_rules():
        path = rule.rule.replace("<path:filename>", "{filename}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in paths.get(path, {}), f"{method} {rule.rule} is served but not documented"


def test_error_codes_are_documented(client):
    detect = client.get("/openapi.json").get_json()["paths"]["/yoloapi/detect"]["post"]
    assert {"200", "400", "405", "413", "503"} <= detect["responses"].keys()
    assert "invalid_parameter" in detect["responses"]["400"]["description"]
    assert set(detect["requestBody"]["content"]) >= {"multipart/form-data", "image/jpeg", "image/png"}


@pytest.mark.parametrize("path", ["/docs", "/yoloapi/docs"])
def test_docs_page_works_offline(client, path):
    page = client.get(path).get_data(as_text=True)
    base = path.removesuffix("/docs")
    assert f'url: "{base}/openapi.json"' in page
    assert "https://" not in page and "http://" not in page  # no CDN
    for asset in (f"{base}/docs/swagger/js/swagger-ui-bundle.js", f"{base}/docs/swagger/css/swagger-ui.css"):
        assert asset in page
        assert client.get(asset).status_code == 200


@pytest.fixture(scope="module")
def detection_server(tmp_path_factory, tiny_yolo_weights):
    port = free_port()
    with run_server(
        gunicorn_command("apis.detection.wsgi:app", port),
        port=port,
        health_path="/health",
        workdir=tmp_path_factory.mktemp("fuzz-detection"),
        env={"DETECTION_WEIGHTS": str(tiny_yolo_weights), "MAX_UPLOAD_MB": "1"},
    ) as server:
        yield server


@pytest.fixture(scope="module")
def detection_schema(detection_server):
    return schemathesis.openapi.from_url(f"{detection_server.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("detection_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_fuzz_every_operation(case):
    """No 5xx but documented ones, every response matches its schema, errors have the JSON shape."""
    response = case.call_and_validate()
    assert_json_error_shape(response)


@pytest.mark.slow
@given(payload=broken_images())
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_broken_uploads_get_a_json_400_never_a_crash(detection_server, payload):
    for send in (
        lambda: requests.post(
            f"{detection_server.url}/detect", files={"image": ("x.jpg", payload)}, timeout=30
        ),
        lambda: requests.post(
            f"{detection_server.url}/detect", data=payload, headers={"Content-Type": "image/png"}, timeout=30
        ),
    ):
        response = send()
        assert response.status_code in (200, 400), response.text
        assert_json_error_shape(response)
