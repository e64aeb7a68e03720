"""Per-object depth: exact ranking on a hand-set depth map, and the pure parsing/measuring logic."""

from __future__ import annotations

import re

import numpy as np
import pytest

from apis.depth import objects
from apis.depth.backends import DepthPrediction
from tests.depth.helpers import detection, predict
from tests.support.images import encode, gradient

WIDTH, HEIGHT = 400, 300
FAR, MIDDLE, NEAR = 1.0, 5.0, 9.0  # relative inverse depth: larger is closer


def near_far_layout(background: float, near: float, middle: float) -> np.ndarray:
    """A far wall, a near object on the left, a middle one on the right, and a small near one in the centre.

    The centre object fills only the central half of its box's width and height, so three
    quarters of that box are wall: the median over the box's central part must still see it.
    """
    depth = np.full((HEIGHT, WIDTH), background, np.float32)
    depth[150:290, 20:120] = near  # box A: (20, 150)-(120, 290)
    depth[100:250, 260:380] = middle  # box B: (260, 100)-(380, 250)
    depth[130:170, 180:220] = near  # box C: (160, 110)-(240, 190), object in its central half
    return depth


LAYOUT_BOXES = [
    detection(260, 100, 380, 250, "car"),  # B, middle
    detection(160, 110, 240, 190, "dog"),  # C, near, small
    detection(20, 150, 120, 290, "person"),  # A, near
]


@pytest.fixture()
def hand_set_depth(monkeypatch):
    """Replace the model's answer of one app's estimator with a given map."""

    def install(service, depth: np.ndarray) -> None:
        def fake_predict(image):
            assert (image.height, image.width) == depth.shape
            return DepthPrediction(depth=depth.copy(), timing_ms={"preprocess": 0.0, "inference": 0.0})

        monkeypatch.setattr(service.estimator, "predict", fake_predict)

    return install


@pytest.fixture()
def synthetic_photo() -> bytes:
    return encode(gradient(WIDTH, HEIGHT), "PNG")


def test_ranking_on_a_known_near_far_layout(client, depth_service, hand_set_depth, synthetic_photo):
    hand_set_depth(depth_service, near_far_layout(FAR, NEAR, MIDDLE))
    body = predict(client, synthetic_photo, detections=LAYOUT_BOXES, include_images="false").get_json()
    car, dog, person = body["depth_at_objects"]
    assert [car["class_name"], dog["class_name"], person["class_name"]] == ["car", "dog", "person"]
    assert (car["depth_median"], dog["depth_median"], person["depth_median"]) == (MIDDLE, NEAR, NEAR)
    assert (car["depth_value"], dog["depth_value"], person["depth_value"]) == (MIDDLE, NEAR, NEAR)
    # The two near objects tie; the tie keeps the order sent, then comes the middle one.
    assert (dog["rank"], person["rank"], car["rank"]) == (1, 2, 3)
    assert (dog["closeness"], person["closeness"], car["closeness"]) == (1.0, 1.0, 0.5)
    assert body["depth_stats"]["min_depth"] == FAR and body["depth_stats"]["max_depth"] == NEAR
    assert not any("clamped" in o for o in body["depth_at_objects"])


def test_metric_ranking_puts_the_smallest_distance_first(metric_app, hand_set_depth, synthetic_photo):
    service = metric_app.extensions["model_host"].service
    hand_set_depth(service, near_far_layout(background=12.0, near=1.5, middle=4.0))
    body = predict(metric_app.test_client(), synthetic_photo, detections=LAYOUT_BOXES[::2]).get_json()
    assert body["depth_semantics"] == "metric_meters"
    car, person = body["depth_at_objects"]
    assert (person["rank"], car["rank"]) == (1, 2)
    assert (person["depth_median"], car["depth_median"]) == (1.5, 4.0)
    assert person["closeness"] == 1.0 and car["closeness"] == pytest.approx((12 - 4) / (12 - 1.5), abs=1e-4)


def test_midpoints_of_the_original_contract_read_the_pixel(
    client, depth_service, hand_set_depth, synthetic_photo
):
    depth = near_far_layout(FAR, NEAR, MIDDLE)
    depth[10, 390] = 7.25
    hand_set_depth(depth_service, depth)
    midpoints = [
        {"x": 390.6, "y": 10.2, "class_name": "bird", "confidence": 0.5, "bbox": [385, 5, 396, 16]},
        {"x": 70, "y": 220, "class_name": "person", "confidence": 0.9},
    ]
    image_info = {"source": "camera-3", "frame": 17}
    body = predict(
        client,
        synthetic_photo,
        midpoints=midpoints,
        detection_count=5,
        image_info=image_info,
        include_images="false",
    ).get_json()
    bird, person = body["depth_at_objects"]
    assert bird["depth_value"] == 7.25 and bird["bbox"] == [385, 5, 396, 16] and "class_id" not in bird
    assert person["depth_value"] == NEAR and person["bbox"] is None and person["depth_median"] == NEAR
    assert body["detection_info"] == {"detection_count": 5, "midpoints_processed": 2}
    assert body["image_info"]["source"] == "camera-3" and body["image_info"]["frame"] == 17
    assert body["image_info"]["original_size"] == [HEIGHT, WIDTH]


def test_out_of_image_coordinates_are_clamped_and_flagged(
    client, depth_service, hand_set_depth, synthetic_photo
):
    hand_set_depth(depth_service, near_far_layout(FAR, NEAR, MIDDLE))
    sent = [
        detection(-50, 140, 130, 400, "person"),  # reaches past the left and bottom edges
        detection(500, 10, 600, 50, "kite"),  # entirely right of the image: no area left
        detection(260, 100, 380, 250, "car"),  # inside
    ]
    midpoints = [{"x": -3, "y": 1000, "class_name": "ghost"}]
    body = predict(client, synthetic_photo, detections=sent, include_images="false").get_json()
    person, kite, car = body["depth_at_objects"]
    assert person["clamped"] is True and person["bbox"] == {"x1": 0, "y1": 140, "x2": 130, "y2": 300}
    assert person["depth_median"] == NEAR
    assert kite["clamped"] is True and kite["bbox"] == {"x1": 400, "y1": 10, "x2": 400, "y2": 50}
    assert kite["x"] == 400 and kite["depth_median"] == kite["depth_value"] == FAR
    assert "clamped" not in car
    ghost = predict(client, synthetic_photo, midpoints=midpoints, include_images="false").get_json()
    (point,) = ghost["depth_at_objects"]
    assert point["clamped"] is True and (point["x"], point["y"]) == (0, HEIGHT)
    assert point["depth_value"] == FAR


def test_zero_area_boxes_use_the_midpoint(client, depth_service, hand_set_depth, synthetic_photo):
    hand_set_depth(depth_service, near_far_layout(FAR, NEAR, MIDDLE))
    line = detection(20, 200, 200, 200, "wire")  # zero height, midpoint (110, 200) is on the near object
    dot = detection(300, 120, 300, 120, "dot")
    body = predict(client, synthetic_photo, detections=[line, dot], include_images="false").get_json()
    wire, point = body["depth_at_objects"]
    assert wire["depth_median"] == wire["depth_value"] == NEAR
    assert point["depth_median"] == point["depth_value"] == MIDDLE
    assert "clamped" not in wire and "clamped" not in point


# ---------------------------------------------------------------- the pure logic


def test_median_over_the_box_core_ignores_background_at_the_edges():
    depth = np.zeros((100, 100), np.float32)
    depth[30:70, 30:70] = 1.0  # object fills 16 % of the box below
    query = objects.ObjectQuery(x=50, y=50, box=objects.Box(0, 0, 100, 100))
    (result,) = objects.measure_objects(depth, [query], larger_is_closer=True, box_core=0.4)
    assert result["depth_median"] == 1.0
    (whole_box,) = objects.measure_objects(depth, [query], larger_is_closer=True, box_core=1.0)
    assert whole_box["depth_median"] == 0.0


@pytest.mark.parametrize(
    ("box", "fraction", "expected"),
    [
        (objects.Box(0, 0, 100, 50), 0.5, (slice(12, 38), slice(25, 75))),
        (objects.Box(10, 10, 11, 11), 0.5, (slice(10, 11), slice(10, 11))),  # at least one pixel
        (objects.Box(90, 40, 100, 50), 1.0, (slice(40, 50), slice(90, 100))),  # up to the edge
        (objects.Box(5, 5, 5, 30), 0.5, None),  # no area
    ],
)
def test_core_window(box, fraction, expected):
    assert objects.core_window(box, fraction, width=100, height=50) == expected


def test_a_flat_map_gives_closeness_one_half():
    assert objects.closeness(np.array([3.0, 3.0]), 3.0, 3.0, larger_is_closer=True).tolist() == [0.5, 0.5]


def test_detections_accept_corners_in_any_order_and_list_boxes():
    (swapped,) = objects.parse_detections([detection(50, 60, 10, 20)], max_objects=5)
    assert swapped.box == objects.Box(10, 20, 50, 60) and (swapped.x, swapped.y) == (30, 40)
    (listed,) = objects.parse_midpoints([{"x": 1, "y": 2, "bbox": [0, 0, 4, 4]}], max_objects=5)
    assert listed.box_as_list and listed.box == objects.Box(0, 0, 4, 4)


@pytest.mark.parametrize(
    ("parse", "raw", "message"),
    [
        (objects.parse_midpoints, {"x": 1, "y": 2}, "expected a JSON list of midpoints"),
        (objects.parse_midpoints, [[1, 2]], "item 0: expected an object"),
        (objects.parse_midpoints, [{"y": 2}], "item 0: 'x' is missing"),
        (objects.parse_midpoints, [{"x": 1, "y": None}], "item 0: 'y' is missing"),
        (objects.parse_midpoints, [{"x": "12", "y": 2}], "item 0: 'x' must be a finite number"),
        (objects.parse_midpoints, [{"x": True, "y": 2}], "'x' must be a finite number"),
        (objects.parse_midpoints, [{"x": 1, "y": float("nan")}], "'y' must be a finite number"),
        (objects.parse_midpoints, [{"x": 1, "y": 2, "bbox": [1, 2, 3]}], "needs 4 numbers"),
        (objects.parse_midpoints, [{"x": 1, "y": 2, "bbox": "1,2,3,4"}], "'bbox' must be an object"),
        (objects.parse_midpoints, [{"x": 1, "y": 2, "confidence": "high"}], "'confidence' must be a finite"),
        (objects.parse_detections, [{"class_name": "person"}], "item 0: 'bbox' is missing"),
        (
            objects.parse_detections,
            [detection(0, 0, 1, 1), {"bbox": {"x1": 0, "y1": 0, "x2": 1}}],
            "item 1.bbox: 'y2' is missing",
        ),
        (
            objects.parse_detections,
            [{"bbox": {"x1": 0, "y1": "a", "x2": 1, "y2": 1}}],
            "'y1' must be a finite",
        ),
        (
            objects.parse_detections,
            [{**detection(0, 0, 1, 1), "class_id": "zero"}],
            "'class_id' must be a whole",
        ),
        (objects.parse_detections, [detection(0, 0, 1, 1)] * 4, "at most 3 detections"),
    ],
)
def test_unusable_objects_are_named(parse, raw, message):
    with pytest.raises(objects.ObjectInputError, match=re.escape(message)):
        parse(raw, max_objects=3)
