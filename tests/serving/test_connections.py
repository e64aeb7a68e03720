"""Connection hygiene through the real gunicorn server: a 4xx never spoils a keep-alive connection,
and a doubled slash in a path never gets an HTML redirect."""

from __future__ import annotations

import http.client
import json
import uuid

import pytest

from delivery.routes import DETECTION
from tests.support.servers import run_api

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_yolo_weights):
    env = {"DETECTION_WEIGHTS": str(tiny_yolo_weights)}
    with run_api(DETECTION, workdir=tmp_path_factory.mktemp("connections"), env=env) as running:
        yield running


def multipart(photo: bytes, **fields: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="p.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + photo
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def bad_requests(photo: bytes) -> dict[str, tuple[str, str, bytes, dict[str, str]]]:
    """One request per kind of 4xx the API answers, each with a body the server may leave unread."""
    bad_field, bad_field_type = multipart(photo, conf="2")
    return {
        "raw body, empty Content-Type": ("POST", "/yoloapi/detect", photo, {"Content-Type": ""}),
        "raw body, text/plain": ("POST", "/yoloapi/detect", photo, {"Content-Type": "text/plain"}),
        "not an image": ("POST", "/yoloapi/detect", b"x" * 50_000, {"Content-Type": "image/jpeg"}),
        "invalid field": ("POST", "/yoloapi/detect", bad_field, {"Content-Type": bad_field_type}),
        "unknown path": ("POST", "/yoloapi/nothing", photo, {"Content-Type": "image/jpeg"}),
        "wrong method": ("PUT", "/yoloapi/detect", photo, {"Content-Type": "image/jpeg"}),
        "too large": ("POST", "/yoloapi/detect", b"\xff" * (17 * 2**20), {"Content-Type": "image/jpeg"}),
    }


@pytest.mark.parametrize(
    "kind",
    [
        "raw body, empty Content-Type",
        "raw body, text/plain",
        "not an image",
        "invalid field",
        "unknown path",
        "wrong method",
        "too large",
    ],
)
def test_after_a_4xx_the_same_connection_serves_the_next_request(server, photo_bytes, kind):
    method, path, body, headers = bad_requests(photo_bytes["bus.jpg"])[kind]
    connection = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=60)
    try:
        for _ in range(2):
            connection.request(method, path, body=body, headers=headers)
            refused = connection.getresponse()
            payload = json.loads(refused.read())
            assert 400 <= refused.status < 500, (refused.status, payload)
            assert payload["success"] is False
            good_body, content_type = multipart(photo_bytes["bus.jpg"])
            connection.request(
                "POST", "/yoloapi/detect", body=good_body, headers={"Content-Type": content_type}
            )
            answer = connection.getresponse()
            assert answer.status == 200, answer.read()[:300]
            assert json.loads(answer.read())["success"] is True
    finally:
        connection.close()


@pytest.mark.parametrize("path", ["/yoloapi//detect", "//yoloapi/detect", "/yoloapi///detect"])
def test_a_doubled_slash_is_served_never_redirected(server, photo_bytes, path):
    body, content_type = multipart(photo_bytes["bus.jpg"])
    connection = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=60)
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": content_type})
        answer = connection.getresponse()
        assert answer.status == 200, (answer.status, answer.getheaders(), answer.read()[:300])
        assert json.loads(answer.read())["success"] is True
        connection.request("GET", path.replace("detect", "health"))
        health = connection.getresponse()
        assert health.status == 200 and json.loads(health.read())["status"] == "ok"
    finally:
        connection.close()
