"""The published OpenAPI description, and property-based fuzzing of the running API from it."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import given, settings

from delivery.routes import DEPTH
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


@pytest.mark.parametrize("path", ["/openapi.json", "/depthapi/openapi.json"])
def test_the_document_is_valid_openapi_3(client, path):
    assert_valid_openapi(client.get(path).get_json())


def test_every_served_route_is_documented(depth_app, client):
    assert_every_route_documented(depth_app, client.get("/openapi.json").get_json())


def test_json_fields_colormaps_and_errors_are_documented(client):
    document = client.get("/openapi.json").get_json()
    predict = document["paths"]["/depthapi/predict_depth"]["post"]
    assert {"200", "400", "405", "413", "503"} <= predict["responses"].keys()
    multipart = predict["requestBody"]["content"]["multipart/form-data"]
    assert multipart["encoding"]["detections"] == {"contentType": "application/json"}
    assert multipart["schema"]["properties"]["midpoints"]["type"] == "array"
    assert "Spectral_r" in multipart["schema"]["properties"]["colormap"]["enum"]
    query = {p["name"] for p in predict["parameters"]}
    assert "colormap" in query and "detections" not in query  # JSON lists only as form parts
    assert "ObjectDepth" in document["components"]["schemas"]


@pytest.mark.parametrize("path", ["/docs", "/depthapi/docs"])
def test_docs_page_works_offline(client, path):
    assert_docs_page_works_offline(client, path)


@pytest.fixture(scope="module")
def depth_server(tmp_path_factory, tiny_depth_model):
    with run_api(
        DEPTH,
        workdir=tmp_path_factory.mktemp("fuzz-depth"),
        env={"DEPTH_MODEL": str(tiny_depth_model), "DEPTH_INPUT_SIZE": "98", "MAX_UPLOAD_MB": "1"},
    ) as server:
        yield server


@pytest.fixture(scope="module")
def depth_schema(depth_server):
    return schemathesis.openapi.from_url(f"{depth_server.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("depth_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=12, **FUZZ_SETTINGS)
def test_fuzz_every_operation(case):
    check_operation(case)


@pytest.mark.slow
@given(payload=broken_images())
@settings(max_examples=40, **FUZZ_SETTINGS)
def test_broken_uploads_get_a_json_4xx_never_a_crash(depth_server, payload):
    check_broken_upload(f"{depth_server.url}/predict_depth", payload)


def test_uploads_that_once_failed_the_fuzzing_still_get_the_right_json_4xx(depth_server):
    check_broken_upload_regressions(f"{depth_server.url}/predict_depth")
