"""Every input a client can send gets a JSON answer with the right status; never a 500."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from tests.depth.helpers import assert_error, detection, predict
from tests.support.images import encode, gradient


@pytest.fixture(scope="module")
def small_photo() -> bytes:
    return encode(gradient(64, 48), "PNG")


@pytest.mark.parametrize("field", ["midpoints", "detections", "image_info"])
@pytest.mark.parametrize("text", ["[{", "{'x': 1}", "not json", '[{"x": 1,}]'])
def test_malformed_json_names_the_field(client, small_photo, field, text):
    body = assert_error(predict(client, small_photo, **{field: text}), 400, "invalid_parameter", field)
    assert "not valid JSON" in body["error"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("midpoints", [{"x": "left", "y": 3}], "item 0: 'x' must be a finite number, got 'left'"),
        ("midpoints", [{"x": 3}], "item 0: 'y' is missing"),
        (
            "midpoints",
            [{"x": 1, "y": 2}, {"x": 1, "y": 2, "bbox": {"x1": 0}}],
            "item 1.bbox: 'y1' is missing",
        ),
        ("midpoints", {"x": 1, "y": 2}, "expected a JSON list of midpoints, got dict"),
        ("detections", [{"class_name": "person", "confidence": 0.9}], "item 0: 'bbox' is missing"),
        ("detections", [{"bbox": {"x1": 0, "y1": 0, "x2": "ten", "y2": 5}}], "'x2' must be a finite number"),
        ("detections", [{"bbox": {"x1": 0, "y1": 0, "x2": None, "y2": 5}}], "'x2' is missing"),
        ("detections", '"person"', "expected a JSON list of detections, got str"),
        ("image_info", ["a", "list"], "expected a JSON object"),
    ],
)
def test_unusable_points_and_boxes_name_the_field(client, small_photo, field, value, message):
    body = assert_error(predict(client, small_photo, **{field: value}), 400, "invalid_parameter", field)
    assert message in body["error"]


def test_non_finite_numbers_in_json_are_rejected(client, small_photo):
    response = predict(client, small_photo, midpoints='[{"x": NaN, "y": 2}]')
    assert (
        "'x' must be a finite number"
        in assert_error(response, 400, "invalid_parameter", "midpoints")["error"]
    )


def test_midpoints_and_detections_together_are_both_measured(client, small_photo):
    response = predict(client, small_photo, midpoints=[{"x": 1, "y": 1}], detections=[detection(0, 0, 2, 2)])
    assert response.status_code == 200
    measured = response.get_json()["depth_at_objects"]
    assert [(o["x"], o["y"]) for o in measured] == [(1, 1), (1, 1)]
    assert sorted(o["rank"] for o in measured) == [1, 2]


def test_too_many_objects(depth_app, depth_service, small_photo):
    limit = depth_service.settings.max_objects
    response = predict(depth_app.test_client(), small_photo, midpoints=[{"x": 1, "y": 1}] * (limit + 1))
    assert (
        f"at most {limit} midpoints" in assert_error(response, 400, "invalid_parameter", "midpoints")["error"]
    )


def test_unknown_colormap_lists_valid_names(client, small_photo):
    body = assert_error(
        predict(client, small_photo, colormap="rainbowz"), 400, "invalid_parameter", "colormap"
    )
    assert "'rainbowz'" in body["error"] and "Spectral_r" in body["error"] and "viridis" in body["error"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("include_images", "maybe"),
        ("include_depth_map", "2"),
        ("grayscale", "yes please"),
        ("pred_only", "t"),
        ("detection_count", "three"),
        ("detection_count", "-1"),
    ],
)
def test_bad_flags_and_counts(client, small_photo, field, value):
    assert_error(predict(client, small_photo, **{field: value}), 400, "invalid_parameter", field)


def test_unusable_objects_are_reported_before_the_model_runs(client, depth_service, monkeypatch):
    def never(_image):
        raise AssertionError("the model must not run for a bad request")

    monkeypatch.setattr(depth_service.estimator, "predict", never)
    assert_error(
        predict(client, b"not an image either", midpoints="[{"), 400, "invalid_parameter", "midpoints"
    )


@pytest.mark.parametrize(
    ("data", "code", "status"),
    [
        (b"", "empty_image", 400),
        (b"hello, not a picture" * 10, "invalid_image", 400),
        (b"\xff\xd8\xff\xe0" + b"\0" * 3_000_000, "payload_too_large", 413),
    ],
)
def test_image_problems_of_the_shared_core(client, data, code, status):
    assert_error(predict(client, data, detections=[detection(0, 0, 2, 2)]), status, code)


def test_missing_image(client):
    assert_error(client.post("/predict_depth", data={"detections": "[]"}), 400, "missing_image")


def test_wrong_method_and_unknown_path_are_json(client):
    assert_error(client.get("/predict_depth"), 405, "method_not_allowed")
    assert_error(client.post("/predict"), 404, "not_found")


@pytest.mark.parametrize("size", [(4, 62), (300, 3), (1, 1), (2000, 9)])
def test_extreme_aspect_ratios_get_a_map_of_their_own_size(client, size):
    """Found by fuzzing: a 4x62 GIF left the model's keep-aspect resize with a zero-width input."""
    response = predict(
        client, encode(Image.new("RGB", size, (90, 120, 150)), "PNG"), include_depth_map="true"
    )
    assert response.status_code == 200, response.get_json()
    depth_map = response.get_json()["depth_map"]
    assert (depth_map["width"], depth_map["height"]) == size


@pytest.mark.parametrize("field", ["midpoints", "detections", "image_info"])
def test_deeply_nested_json_is_a_400_naming_the_field_and_the_limit(client, small_photo, field):
    """About 2 KB of brackets (1,000 levels) used to reach json.loads' recursion limit: a 500."""
    nested = "[" * 1000 + "]" * 1000
    body = assert_error(predict(client, small_photo, **{field: nested}), 400, "invalid_parameter", field)
    assert "nested deeper than the limit of 32 levels" in body["error"]


def test_nesting_within_the_limit_is_judged_on_its_content(client, small_photo):
    body = assert_error(
        predict(client, small_photo, image_info={"a": [[[{"b": 1}]]]}, midpoints="[" * 33 + "]" * 33),
        400,
        "invalid_parameter",
        "midpoints",
    )
    assert "nested deeper" in body["error"]
    info = {"camera": {"lens": {"mm": [35]}}}
    assert predict(client, small_photo, image_info=info).get_json()["image_info"]["camera"] == info["camera"]


@pytest.mark.parametrize(("field", "limit"), [("midpoints", 512 * 1024), ("image_info", 16 * 1024)])
def test_a_huge_text_field_is_a_413_naming_the_field_and_its_limit(client, small_photo, field, limit):
    """A 1 MB field used to get Werkzeug's 413 about the whole body, naming neither."""
    huge = '{"pad": "' + "x" * (1024 * 1024) + '"}'
    body = assert_error(predict(client, small_photo, **{field: huge}), 413, "payload_too_large", field)
    assert f"at most {limit} characters" in body["error"]


def test_every_detection_list_the_detection_api_can_return_is_accepted(client, small_photo):
    """POST /detect answers up to 1,000 objects (max_det's ceiling); depth takes all of them."""
    boxes = [detection(i % 60, i % 40, i % 60 + 4, i % 40 + 4, confidence=0.5) for i in range(1000)]
    response = predict(client, small_photo, detections=boxes, include_images="false")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["detection_info"] == {"detection_count": 1000, "midpoints_processed": 1000}


def test_a_field_sent_as_a_file_part_is_read_like_a_text_field(client, small_photo):
    """``curl -F detections=@detections.json`` sends a file part; it used to be ignored silently."""
    boxes = json.dumps([detection(0, 0, 4, 4), detection(10, 10, 20, 20)]).encode()
    form = {"image": (io.BytesIO(small_photo), "photo.png"), "detections": (io.BytesIO(boxes), "d.json")}
    response = client.post("/predict_depth", data=form, content_type="multipart/form-data")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["detection_info"]["midpoints_processed"] == 2
    binary = {
        "image": (io.BytesIO(small_photo), "photo.png"),
        "midpoints": (io.BytesIO(b"\xff\xfe"), "m.bin"),
    }
    response = client.post("/predict_depth", data=binary, content_type="multipart/form-data")
    assert assert_error(response, 400, "invalid_parameter", "midpoints")["error"].endswith("UTF-8 text")
