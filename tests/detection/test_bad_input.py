"""Every input a client can send gets a JSON answer with the right status; never a 500."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.support.images import animated_gif, encode, gradient, with_exif_orientation


def post_image(client, data: bytes, filename: str = "upload.bin", **fields):
    form = {"image": (io.BytesIO(data), filename), **fields}
    return client.post("/detect", data=form, content_type="multipart/form-data")


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()
    assert body["success"] is False
    assert body["code"] == code
    assert isinstance(body["error"], str) and body["error"]
    return body


def test_missing_image_field(client):
    assert_error(
        client.post("/detect", data={"conf": "0.5"}, content_type="multipart/form-data"), 400, "missing_image"
    )


def test_no_body_at_all(client):
    assert_error(client.post("/detect"), 400, "missing_image")


def test_json_body_is_not_an_image(client):
    assert_error(client.post("/detect", json={"image": "bus.jpg"}), 400, "missing_image")


def test_empty_file(client):
    assert_error(post_image(client, b""), 400, "empty_image")


def test_text_file_named_like_a_jpeg(client):
    assert_error(
        post_image(client, b"hello, I am not a picture" * 10, filename="photo.jpg"), 400, "invalid_image"
    )


def test_truncated_jpeg(client, photo_bytes):
    assert_error(post_image(client, photo_bytes["bus.jpg"][:20_000]), 400, "truncated_image")


def test_jpeg_named_png_is_judged_by_content(client, photo_bytes):
    response = post_image(client, photo_bytes["zidane.jpg"], filename="zidane.png")
    assert response.status_code == 200
    assert response.get_json()["image_info"]["format"] == "JPEG"


def test_format_pillow_reads_but_we_do_not_serve(client):
    assert_error(post_image(client, encode(gradient(64, 64), "PPM")), 400, "unsupported_format")


def test_body_over_the_byte_limit(client):
    assert_error(post_image(client, b"\xff\xd8" + b"\0" * (2 * 1024 * 1024)), 413, "payload_too_large")


def test_image_over_the_byte_limit_but_under_the_request_limit(client):
    noise = np.random.default_rng(0).integers(0, 255, (620, 620, 3), dtype=np.uint8)
    data = encode(Image.fromarray(noise), "PNG")  # ~1.15 MB of incompressible pixels
    assert 1024 * 1024 < len(data) < 1024 * 1024 + 256 * 1024
    assert_error(post_image(client, data), 413, "payload_too_large")


def test_decompression_bomb_is_refused_before_decoding(client):
    bomb = encode(Image.new("L", (5000, 5000)), "PNG")  # 25 Mpx in ~25 kB
    assert len(bomb) < 100_000
    body = assert_error(post_image(client, bomb), 413, "image_too_large")
    assert "5000x5000" in body["error"]


def test_wrong_method(client):
    assert_error(client.get("/detect"), 405, "method_not_allowed")
    assert_error(client.get("/yoloapi/detect"), 405, "method_not_allowed")


def test_unknown_route(client):
    assert_error(client.get("/nope"), 404, "not_found")
    assert_error(client.post("/yoloapi/nope"), 404, "not_found")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("conf", "abc"),
        ("conf", "1.5"),
        ("conf", "nan"),
        ("iou", "-0.1"),
        ("max_det", "0"),
        ("max_det", "2.5"),
        ("imgsz", "10"),
        ("include_image", "maybe"),
        ("classes", "unicorn"),
        ("classes", "PERSON"),
        ("classes", "person,,car"),
        ("classes", "[1, "),
        ("classes", "999"),
        ("classes", "{}"),
    ],
)
def test_bad_parameters_name_the_field(client, photo_bytes, field, value):
    body = assert_error(
        post_image(client, photo_bytes["demo08.jpg"], **{field: value}), 400, "invalid_parameter"
    )
    assert body["field"] == field
    assert field in body["error"]


def test_service_keeps_serving_after_bad_input(client, photo_bytes):
    post_image(client, b"garbage")
    post_image(client, photo_bytes["bus.jpg"][:1000])
    assert post_image(client, photo_bytes["demo08.jpg"]).status_code == 200


# --- normalisation: odd but valid images are accepted and measured as seen upright ---


def test_exif_orientation_is_applied(client):
    stored = gradient(300, 200)  # stored landscape, EXIF says rotate 90° -> portrait
    body = post_image(client, with_exif_orientation(stored, 6)).get_json()
    assert body["image_info"]["original_size"] == [300, 200]


@pytest.mark.parametrize(
    ("mode", "fmt"),
    [
        ("L", "PNG"),
        ("P", "PNG"),
        ("RGBA", "PNG"),
        ("LA", "PNG"),
        ("CMYK", "JPEG"),
        ("I;16", "PNG"),
        ("1", "BMP"),
        ("RGB", "WEBP"),
        ("RGBA", "WEBP"),
        ("RGB", "TIFF"),
        ("F", "TIFF"),
    ],
)
def test_image_modes_are_converted(client, mode, fmt):
    base = gradient(320, 240)
    if mode == "I;16":
        picture = Image.fromarray(np.asarray(base.convert("L"), dtype=np.uint16) * 257)
    elif mode == "F":
        picture = Image.fromarray(np.asarray(base.convert("L"), dtype=np.float32) / 255.0)
    else:
        picture = base.convert(mode)
    response = post_image(client, encode(picture, fmt), include_image="true")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["image_info"]["original_size"] == [240, 320]


def test_animated_gif_uses_the_first_frame(client):
    body = post_image(client, animated_gif(160, 120)).get_json()
    assert body["success"] is True
    assert body["image_info"]["original_size"] == [120, 160]
