"""Behaviour under load: bounded waiting (503 + Retry-After), graceful SIGTERM, timing and metrics."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from apis.core.app import create_app
from apis.core.settings import CoreSettings
from apis.detection.service import DetectionService
from delivery.routes import DETECTION
from tests.support.metrics import metric_value
from tests.support.servers import run_api


def post(client, data: bytes):
    return client.post(
        "/detect", data={"image": (io.BytesIO(data), "p.jpg")}, content_type="multipart/form-data"
    )


class SlowDetectionService(DetectionService):
    """The real service with a model call that takes at least ``delay_s``."""

    delay_s = 0.4

    def setup(self) -> None:
        super().setup()
        predict = self.detector.predict

        def slow_predict(*args, **kwargs):
            time.sleep(self.delay_s)
            return predict(*args, **kwargs)

        self.detector.predict = slow_predict


def test_overload_is_answered_with_503_and_retry_after_never_another_5xx(detection_settings, photo_bytes):
    core = CoreSettings(max_waiting=1, queue_timeout_s=30)
    app = create_app(SlowDetectionService(detection_settings, core), core, load_in_background=False)
    client = app.test_client()
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: post(client, photo_bytes["demo08.jpg"]), range(6)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) >= 2  # one running, one waiting
    assert 503 in statuses
    assert set(statuses) <= {200, 503}
    for response in responses:
        if response.status_code == 503:
            assert response.get_json()["code"] == "overloaded"
            assert int(response.headers["Retry-After"]) >= 1


def test_a_request_that_cannot_reach_the_model_in_time_gets_a_json_503(detection_settings, photo_bytes):
    core = CoreSettings(max_waiting=4, queue_timeout_s=0.1)
    app = create_app(SlowDetectionService(detection_settings, core), core, load_in_background=False)
    client = app.test_client()
    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(lambda _: post(client, photo_bytes["demo08.jpg"]), range(2)))
    timed_out = [r for r in responses if r.status_code == 503]
    assert [r.status_code for r in responses].count(200) == 1
    assert len(timed_out) == 1
    assert timed_out[0].get_json()["code"] == "queue_timeout"
    assert "Retry-After" in timed_out[0].headers


def test_timing_fields_add_up_and_feed_the_metrics(client, photo_bytes):
    def stage_count(stage: str) -> float:
        return metric_value(client, "api_stage_seconds_count", stage=stage)

    before = {stage: stage_count(stage) for stage in ("decode", "queue", "inference", "encode")}
    body = client.post(
        "/detect",
        data={"image": (io.BytesIO(photo_bytes["bus.jpg"]), "bus.jpg"), "include_image": "1"},
        content_type="multipart/form-data",
    ).get_json()
    timing = body["timing_ms"]
    assert all(value >= 0 for value in timing.values())
    parts = timing["decode"] + timing["queue"] + timing["model_call"] + timing["encode"]
    assert parts <= timing["total"] + 1.0
    assert timing["inference"] <= timing["model_call"]
    for stage, count in before.items():
        assert stage_count(stage) == count + 1, stage


@pytest.mark.slow
def test_sigterm_lets_the_in_flight_request_finish(tmp_path, tiny_yolo_weights, photo_bytes):
    env = {"DETECTION_WEIGHTS": str(tiny_yolo_weights), "OBJDEPTH_TEST_SLOW_PREDICT_S": "2"}
    with run_api(DETECTION, workdir=tmp_path, env=env) as server:
        result: dict = {}

        def call() -> None:
            response = requests.post(
                f"{server.url}/detect", files={"image": ("a.jpg", photo_bytes["demo08.jpg"])}, timeout=60
            )
            result["status"] = response.status_code
            result["body"] = response.json()

        caller = threading.Thread(target=call)
        caller.start()
        time.sleep(1.0)  # the request is now inside the 2 s model call
        os.kill(server.process.pid, signal.SIGTERM)
        caller.join(30)
        assert server.process.wait(30) == 0
    assert result["status"] == 200
    assert result["body"]["success"] is True


@pytest.mark.slow
def test_gunicorn_sheds_overload_with_503_instead_of_queueing(tmp_path, tiny_yolo_weights, photo_bytes):
    """Through the real server: spare gunicorn threads answer the overflow at once."""
    env = {
        "DETECTION_WEIGHTS": str(tiny_yolo_weights),
        "OBJDEPTH_TEST_SLOW_PREDICT_S": "0.5",
        "MAX_WAITING": "1",
        "GUNICORN_THREADS": "8",
        "OVERLOAD_PAUSE_S": "0",
    }
    with run_api(DETECTION, workdir=tmp_path, env=env) as server:

        def call(_):
            started = time.perf_counter()
            response = requests.post(
                f"{server.url}/detect", files={"image": ("a.jpg", photo_bytes["demo08.jpg"])}, timeout=60
            )
            return response, time.perf_counter() - started

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(call, range(8)))
    statuses = [response.status_code for response, _ in results]
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(200) >= 2 and statuses.count(503) >= 3, statuses
    for response, seconds in results:
        if response.status_code == 503:
            assert response.json()["code"] == "overloaded"
            assert int(response.headers["Retry-After"]) >= 1
            assert seconds < 0.5  # answered at once, not after waiting for the model
