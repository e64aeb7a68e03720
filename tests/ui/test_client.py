"""The client's timeouts, retry and error wording, against real sockets on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from ui.client import RETRY_PAUSE_S, ApiCallError, ApiClient, Failure, Service
from ui.settings import UiSettings

OK_DETECT = {"success": True, "detections": [], "detection_count": 0, "model": {"weights": "yolo11n.pt"}}


def http_response(status: int, body: dict, headers: str = "") -> bytes:
    payload = json.dumps(body).encode()
    reason = {200: "OK", 400: "BAD REQUEST", 503: "SERVICE UNAVAILABLE"}[status]
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        f"{headers}Connection: close\r\n\r\n"
    ).encode() + payload


BUSY = {"success": False, "error": "the queue is full", "code": "overloaded"}


class ScriptedServer:
    """Answers each connection with the next action: ``"close"`` (drop it unanswered) or response bytes."""

    def __init__(self, actions: list[str | bytes]) -> None:
        self.actions = actions
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/yoloapi"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        for action in self.actions:
            connection, _ = self._listener.accept()
            self.connections += 1
            with connection:
                if action == "close":
                    continue
                connection.settimeout(5)
                received = b""
                while b"\r\n\r\n" not in received:
                    received += connection.recv(65536)
                head, _, body = received.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                while len(body) < length:
                    body += connection.recv(65536)
                connection.sendall(action)

    def close(self) -> None:
        self._listener.close()


def client_for(url: str, **settings) -> ApiClient:
    return ApiClient(
        UiSettings(detection_api_url=url, depth_api_url=url.replace("/yoloapi", "/depthapi"), **settings)
    )


def test_a_dropped_connection_is_retried_once():
    server = ScriptedServer(["close", http_response(200, OK_DETECT)])
    result = client_for(server.url).detect(b"jpeg bytes", "a.jpg", conf=0.3, iou=0.5)
    assert result.objects == [] and result.model == "yolo11n.pt"
    assert server.connections == 2
    server.close()


def test_an_api_that_stays_down_is_reported_unreachable_after_one_retry(dead_url):
    started = time.monotonic()
    with pytest.raises(ApiCallError) as caught:
        client_for(dead_url.replace("/depthapi", "/yoloapi")).detect(b"x", "a.jpg", conf=0.3, iou=0.5)
    assert caught.value.failure is Failure.UNREACHABLE and caught.value.service is Service.DETECTION
    assert str(caught.value).startswith("The detection API cannot be reached at http://127.0.0.1:")
    assert time.monotonic() - started >= RETRY_PAUSE_S


def test_a_hung_api_times_out_without_a_retry(silent_url):
    started = time.monotonic()
    with pytest.raises(ApiCallError) as caught:
        client_for(silent_url.replace("/depthapi", "/yoloapi"), detection_timeout_s=0.5).detect(
            b"x", "a.jpg", conf=0.3, iou=0.5
        )
    assert time.monotonic() - started < RETRY_PAUSE_S + 1.0  # one wait of 0.5 s, no second attempt
    assert caught.value.failure is Failure.TIMEOUT
    assert "did not answer within 0.5 s" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "failure", "wording"),
    [
        (400, Failure.REJECTED, "refused the image: the upload is not an image"),
        (503, Failure.UNAVAILABLE, "is not ready: the upload is not an image"),
    ],
)
def test_api_errors_keep_the_api_message(status, failure, wording):
    server = ScriptedServer(
        [http_response(status, {"success": False, "error": "the upload is not an image"})]
    )
    with pytest.raises(ApiCallError) as caught:
        client_for(server.url).detect(b"x", "a.jpg", conf=0.3, iou=0.5)
    assert caught.value.failure is failure and caught.value.status == status
    assert wording in str(caught.value)
    assert server.connections == 1
    server.close()


def test_an_answer_outside_the_contract_is_a_failure_not_a_crash():
    server = ScriptedServer([http_response(200, {"success": True, "detections": [{"class_name": "cat"}]})])
    with pytest.raises(ApiCallError) as caught:
        client_for(server.url).detect(b"x", "a.jpg", conf=0.3, iou=0.5)
    assert caught.value.failure is Failure.FAILED and "unexpected" in str(caught.value)
    server.close()


def test_health_of_a_stopped_api_never_raises(dead_url):
    health = client_for(dead_url.replace("/depthapi", "/yoloapi")).health(Service.DEPTH)
    assert not health.ok and health.status == "unreachable" and dead_url in health.detail


def test_a_busy_api_is_asked_again_after_its_retry_after_and_the_wait_is_told():
    server = ScriptedServer(
        [
            http_response(503, BUSY, "Retry-After: 0.3\r\n"),
            http_response(503, BUSY, "Retry-After: 0\r\n"),
            http_response(200, OK_DETECT),
        ]
    )
    heard: list[tuple[str, float]] = []
    started = time.monotonic()
    result = client_for(server.url).detect(
        b"x", "a.jpg", conf=0.3, iou=0.5, on_wait=lambda text, pause: heard.append((text, pause))
    )
    assert result.model == "yolo11n.pt" and server.connections == 3
    assert time.monotonic() - started >= 0.3
    assert heard == [
        ("The detection API is busy, retrying in 0.3 s.", 0.3),
        ("The detection API is busy, retrying in 0 s.", 0.0),
    ]
    server.close()


@pytest.mark.parametrize("header", ["Retry-After: 5\r\n", ""])
def test_a_busy_api_is_not_waited_for_beyond_the_budget_or_without_retry_after(header):
    server = ScriptedServer([http_response(503, BUSY, header)])
    heard: list[str] = []
    started = time.monotonic()
    with pytest.raises(ApiCallError) as caught:
        client_for(server.url, detection_timeout_s=2).detect(
            b"x", "a.jpg", conf=0.3, iou=0.5, on_wait=lambda text, _pause: heard.append(text)
        )
    assert time.monotonic() - started < 1.5 and heard == [] and server.connections == 1
    assert caught.value.failure is Failure.UNAVAILABLE and "the queue is full" in str(caught.value)
    server.close()
