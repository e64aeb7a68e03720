"""The published OpenAPI description, and property-based fuzzing of the running API from it."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import given, settings

from delivery.routes import DETECTION
from tests.support.fuzzing import (
    FUZZ_SETTINGS,
    assert_docs_page_works_offline,
    assert_every_route_documented,
    assert_valid_openapi,
    broken_images,
    check_broken_upload,
    check_broken_upload_regressions,
    check_operation,
    register_image_strategies,
)
from tests.support.servers import run_api

register_image_strategies()


@pytest.mark.parametrize("path", ["/openapi.json", "/yoloapi/openapi.json"])
def test_the_document_is_valid_openapi_3(client, path):
    assert_valid_openapi(client.get(path).get_json())


def test_every_served_route_is_documented(detection_app, client):
    assert_every_route_documented(detection_app, client.get("/openapi.json").get_json())


def test_error_codes_and_class_names_are_documented(client):
    detect = client.get("/openapi.json").get_json()["paths"]["/yoloapi/detect"]["post"]
    assert {"200", "400", "405", "413", "503"} <= detect["responses"].keys()
    assert "invalid_parameter" in detect["responses"]["400"]["description"]
    assert set(detect["requestBody"]["content"]) >= {"multipart/form-data", "image/jpeg", "image/png"}
    classes = detect["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]["classes"]
    assert "traffic light" in classes["pattern"]


@pytest.mark.parametrize("path", ["/docs", "/yoloapi/docs"])
def test_docs_page_works_offline(client, path):
    assert_docs_page_works_offline(client, path)


@pytest.fixture(scope="module")
def detection_server(tmp_path_factory, tiny_yolo_weights):
    with run_api(
        DETECTION,
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
@settings(max_examples=12, **FUZZ_SETTINGS)
def test_fuzz_every_operation(case):
    check_operation(case)


@pytest.mark.slow
@given(payload=broken_images())
@settings(max_examples=40, **FUZZ_SETTINGS)
def test_broken_uploads_get_a_json_4xx_never_a_crash(detection_server, payload):
    check_broken_upload(f"{detection_server.url}/detect", payload)


def test_uploads_that_once_failed_the_fuzzing_still_get_the_right_json_4xx(detection_server):
    check_broken_upload_regressions(f"{detection_server.url}/detect")
