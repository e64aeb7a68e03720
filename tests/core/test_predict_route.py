"""The core's POST route around the toy service: hooks in one pass, readiness, gate, timing, metrics."""

from __future__ import annotations

import io
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image

from apis.core.app import create_app
from apis.core.errors import ApiError, ModelLoadError
from apis.core.service import ModelState
from apis.core.settings import CoreSettings
from tests.core.toy import ToyService
from tests.support.metrics import metric_value


def png(colour: int, size: tuple[int, int] = (8, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def post(client, data: bytes, path: str = "/brightness", **fields):
    form = {"image": (io.BytesIO(data), "grey.png"), **fields}
    return client.post(path, data=form, content_type="multipart/form-data")


def test_the_hooks_answer_in_one_pass_through_the_schema(client, toy_service):
    response = post(client, png(200), scale="0.5")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["brightness"] == 100.0
    assert body["image_info"] == {"filename": "grey.png", "original_size": [6, 8], "format": "PNG"}
    timing = body["timing_ms"]
    assert list(timing) == ["decode", "queue", "inference", "encode", "total"]
    assert timing["inference"] == 1.0  # the model's own stage, merged as it reported it
    assert timing["total"] >= timing["decode"] + timing["encode"]
    assert set(body) == {"success", "brightness", "image_info", "timing_ms"}


def test_predict_runs_on_the_thread_that_loaded_the_model(client, toy_service, monkeypatch):
    threads = []
    original = toy_service.model.__call__

    def record(inputs):
        output = original(inputs)
        threads.append(output.thread)
        return output

    monkeypatch.setattr(toy_service, "model", record)
    for _ in range(3):
        assert post(client, png(10)).status_code == 200
    assert threads == [toy_service.setup_thread] * 3


def test_the_route_is_served_at_the_root_and_under_the_prefix(client):
    assert post(client, png(50), path="/toyapi/brightness").get_json()["brightness"] == 50.0
    assert client.get("/brightness").status_code == 405


@pytest.mark.parametrize(("fields", "field"), [({"scale": "0"}, "scale"), ({"scale": "lots"}, "scale")])
def test_invalid_fields_are_400s_naming_the_field_and_the_model_never_runs(
    client, toy_service, fields, field
):
    response = post(client, png(10), **fields)
    body = response.get_json()
    assert response.status_code == 400
    assert (body["code"], body["field"]) == ("invalid_parameter", field)
    assert toy_service.model.calls == 0


def test_a_missing_image_is_a_400(client, toy_service):
    response = client.post("/brightness", data={"scale": "2"}, content_type="multipart/form-data")
    assert (response.status_code, response.get_json()["code"]) == (400, "missing_image")


def test_a_hook_picks_its_status_with_api_error_and_anything_else_is_a_generic_500(
    client, toy_service, monkeypatch
):
    def refuse(form, image):
        raise ApiError("too dark to judge", status=422, code="invalid_parameter")

    monkeypatch.setattr(toy_service, "decode_request", refuse)
    assert (post(client, png(1)).status_code, post(client, png(1)).get_json()["error"]) == (
        422,
        "too dark to judge",
    )

    def crash(inputs, output, timer):
        raise KeyError("secret internals")

    monkeypatch.undo()
    monkeypatch.setattr(toy_service, "encode_response", crash)
    body = post(client, png(1)).get_json()
    assert body == {"success": False, "error": "internal server error", "code": "internal_error"}


def test_an_error_code_outside_the_enum_fails_where_it_is_raised():
    with pytest.raises(ValueError, match="not_a_code"):
        ApiError("x", code="not_a_code")


def test_readiness_503_while_loading_then_200():
    service = ToyService()
    service.may_load.clear()
    app = create_app(service, CoreSettings())
    client = app.test_client()
    assert client.get("/toyapi/health").get_json() == {"status": "loading", "service": "toy"}
    busy = post(client, png(1))
    assert (busy.status_code, busy.get_json()["code"], busy.headers["Retry-After"]) == (
        503,
        "model_loading",
        "5",
    )
    assert client.get("/model-info").status_code == 503

    service.may_load.set()
    assert app.extensions["model_host"].wait(10) is ModelState.READY
    assert client.get("/health").status_code == 200
    assert client.get("/model-info").get_json() == {
        "success": True,
        "service": "toy",
        "backend": "fake",
        "device": None,
    }
    assert post(client, png(1)).status_code == 200


def test_a_failed_load_says_why_on_health_and_every_request():
    app = create_app(
        ToyService(fail_with=ModelLoadError("no weights at /nowhere; run make export")), CoreSettings()
    )
    assert app.extensions["model_host"].wait(10) is ModelState.FAILED
    client = app.test_client()
    health = client.get("/health")
    assert health.status_code == 503
    assert health.get_json()["error"] == "no weights at /nowhere; run make export"
    refused = post(client, png(1))
    assert (refused.status_code, refused.get_json()["code"]) == (503, "model_failed")
    assert "run make export" in refused.get_json()["error"]


def test_the_gate_answers_503_beyond_capacity_and_serves_every_admitted_request(toy_app, toy_service):
    """max_waiting=1: one request at the model, one waiting; a third is refused at once with a 503."""
    toy_service.model.release.clear()
    host = toy_app.extensions["model_host"]

    def call():
        return post(toy_app.test_client(), png(80))

    with ThreadPoolExecutor(2) as pool:
        admitted = [pool.submit(call)]
        _wait_for(
            lambda: toy_service.model.release is not None and host.gate.waiting == 0 and admitted[0].running()
        )
        time.sleep(0.05)  # the first request now holds the model
        admitted.append(pool.submit(call))
        _wait_for(lambda: host.gate.waiting == 1)
        refused = call()
        assert refused.status_code == 503 and refused.headers["Retry-After"]
        assert refused.get_json()["code"] in {"overloaded", "queue_timeout"}
        toy_service.model.release.set()
        statuses = [future.result().status_code for future in admitted]
    assert statuses == [200, 200] or statuses == [200, 503]  # the waiter may time out (0.5 s) on a slow box
    assert toy_app.extensions["model_host"].gate.waiting == 0


def _wait_for(condition, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_metrics_count_requests_stages_and_error_codes(client):
    assert post(client, png(5)).status_code == 200
    assert post(client, png(5), scale="-1").status_code == 400
    assert metric_value(client, "api_requests_total", endpoint="/brightness", status="200") == 1
    assert metric_value(client, "api_errors_total", code="invalid_parameter") == 1
    assert metric_value(client, "api_stage_seconds_count", stage="inference") == 1
    assert metric_value(client, "api_stage_seconds_count", stage="encode") == 1
    assert metric_value(client, "model_inference_seconds_count") == 1
    assert metric_value(client, "model_ready") == 1


def test_openapi_documents_the_route_from_the_service_attributes(client):
    document = client.get("/openapi.json").get_json()
    operation = document["paths"]["/toyapi/brightness"]["post"]
    assert operation["summary"] == "Mean brightness of a photo"
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ToyResponse"
    }
    form = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert set(form["properties"]) == {"scale", "image"}
    assert document["info"]["description"] == "A toy: the mean brightness of a photo."


def test_concurrent_requests_all_get_their_own_answer(toy_service):
    app = create_app(toy_service, CoreSettings(max_waiting=8), load_in_background=False)

    def call(colour: int) -> float:
        return post(app.test_client(), png(colour)).get_json().get("brightness", -1)

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(call, range(0, 80, 10))) == [float(c) for c in range(0, 80, 10)]


def test_extra_routes_stay_possible():
    from flask import Blueprint

    class WithExtra(ToyService):
        def extra_routes(self):
            extra = Blueprint("toy_extra", __name__)
            extra.add_url_rule("/ping", "ping", lambda: {"pong": True})
            return extra

    client = create_app(WithExtra(), CoreSettings(), load_in_background=False).test_client()
    assert client.get("/toyapi/ping").get_json() == {"pong": True}
    assert client.get("/ping").get_json() == {"pong": True}
