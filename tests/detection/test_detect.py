"""POST /detect on the real photos: the response contract existing clients rely on."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.conftest import PHOTOS
from tests.support.images import decode_data_url


def detect(client, data: bytes, filename: str = "photo.jpg", path: str = "/detect", **fields):
    form = {"image": (io.BytesIO(data), filename), **{k: str(v) for k, v in fields.items()}}
    return client.post(path, data=form, content_type="multipart/form-data")


@pytest.mark.parametrize("name", PHOTOS)
def test_contract_on_real_photos(client, photo_bytes, name):
    response = detect(client, photo_bytes[name], filename=name)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    width, height = Image.open(io.BytesIO(photo_bytes[name])).size

    assert body["success"] is True
    assert body["image_info"]["filename"] == name
    assert body["image_info"]["original_size"] == [height, width]
    assert body["detection_count"] == len(body["detections"])
    assert body["model"]["task"] == "detect"
    assert {"decode", "queue", "inference", "total"} <= body["timing_ms"].keys()
    assert "annotated_image" not in body  # only when asked

    confidences = [d["confidence"] for d in body["detections"]]
    assert confidences == sorted(confidences, reverse=True)
    for detection in body["detections"]:
        assert set(detection) == {"class_id", "class_name", "confidence", "bbox"}
        box = detection["bbox"]
        assert 0 <= box["x1"] <= box["x2"] <= width
        assert 0 <= box["y1"] <= box["y2"] <= height
        assert 0.25 <= detection["confidence"] <= 1.0


def test_random_model_finds_boxes_in_every_photo(client, photo_bytes):
    """Guards the test model itself: an empty result would make the contract tests vacuous."""
    counts = {name: detect(client, data).get_json()["detection_count"] for name, data in photo_bytes.items()}
    assert all(count > 0 for count in counts.values()), counts


def test_annotated_image_is_a_jpeg_of_the_original_size(client, photo_bytes):
    body = detect(client, photo_bytes["bus.jpg"], include_image="true").get_json()
    annotated = decode_data_url(body["annotated_image"])
    assert annotated.format == "JPEG"
    assert annotated.size == (810, 1080)
    original = Image.open(io.BytesIO(photo_bytes["bus.jpg"])).convert("RGB")
    assert annotated.convert("RGB").tobytes() != original.tobytes()  # boxes were drawn
    assert "encode" in body["timing_ms"]


def test_raw_jpeg_body_gives_the_same_detections_as_multipart(client, photo_bytes):
    multipart = detect(client, photo_bytes["zidane.jpg"]).get_json()
    raw = client.post(
        "/detect?conf=0.25", data=photo_bytes["zidane.jpg"], content_type="image/jpeg"
    ).get_json()
    assert raw["success"] is True
    assert raw["detections"] == multipart["detections"]
    assert raw["image_info"]["original_size"] == [720, 1280]


def test_thresholds_change_the_result(client, photo_bytes):
    everything = detect(client, photo_bytes["bus.jpg"], conf=0.25).get_json()
    strict = detect(client, photo_bytes["bus.jpg"], conf=0.4).get_json()
    capped = detect(client, photo_bytes["bus.jpg"], max_det=3).get_json()
    assert strict["detection_count"] < everything["detection_count"]
    assert all(d["confidence"] >= 0.4 for d in strict["detections"])
    assert capped["detection_count"] == 3


@pytest.mark.parametrize("classes", ["person", "0", " person ", '["person"]', "[0]"])
def test_class_filter_by_name_or_id(client, photo_bytes, classes):
    body = detect(client, photo_bytes["bus.jpg"], classes=classes).get_json()
    assert body["detection_count"] > 0
    assert {d["class_name"] for d in body["detections"]} == {"person"}


def test_class_filter_with_several_classes(client, photo_bytes):
    all_classes = {d["class_name"] for d in detect(client, photo_bytes["bus.jpg"]).get_json()["detections"]}
    assert len(all_classes) >= 2, all_classes
    body = detect(client, photo_bytes["bus.jpg"], classes="person,car").get_json()
    assert {d["class_name"] for d in body["detections"]} <= {"person", "car"}
