"""POST /predict_depth on the real photos: the response contract existing clients rely on."""

from __future__ import annotations

import io
from datetime import datetime

import numpy as np
import pytest
from PIL import Image

from tests.conftest import PHOTOS
from tests.depth.conftest import TEST_INPUT_SIZE
from tests.depth.helpers import detection, predict
from tests.support.images import decode_data_url

GAP_PX = 50  # white band of the side-by-side picture


def boxes_for(width: int, height: int) -> list[dict]:
    """Three boxes spread over the picture, as a detection API would send them."""
    return [
        detection(0.05 * width, 0.4 * height, 0.35 * width, 0.95 * height, "person", 0.91),
        detection(0.3 * width, 0.1 * height, 0.7 * width, 0.6 * height, "bus", 0.8),
        detection(0.65 * width, 0.5 * height, 0.98 * width, 0.9 * height, "car", 0.42),
    ]


@pytest.mark.parametrize("name", PHOTOS)
def test_contract_on_real_photos(client, photo_bytes, name, tiny_depth_model):
    width, height = Image.open(io.BytesIO(photo_bytes[name])).size
    sent = boxes_for(width, height)
    response = predict(client, photo_bytes[name], filename=name, detections=sent)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()

    assert body["success"] is True
    assert datetime.fromisoformat(body["timestamp"]).tzinfo is not None
    assert body["model_info"] == {
        "model": str(tiny_depth_model),
        "device": "cpu",
        "provider": "torch",
        "precision": "fp32",
        "input_size": TEST_INPUT_SIZE,
        "backend": "torch",
    }
    assert body["depth_semantics"] == "relative_inverse"
    assert body["image_info"] == {"original_size": [height, width], "filename": name, "format": "JPEG"}
    assert body["detection_info"] == {"detection_count": 3, "midpoints_processed": 3}
    stats = body["depth_stats"]
    assert set(stats) == {"min_depth", "max_depth", "mean_depth", "std_depth"}
    assert 0 <= stats["min_depth"] <= stats["mean_depth"] <= stats["max_depth"]
    assert stats["std_depth"] > 0  # the test model's map varies, so ranking below is not vacuous
    assert {"decode", "queue", "preprocess", "inference", "postprocess", "encode", "total"} == set(
        body["timing_ms"]
    )
    assert "depth_map" not in body  # only when asked

    objects = body["depth_at_objects"]
    assert len(objects) == 3
    for got, given in zip(objects, sent, strict=True):
        assert set(got) == {
            "x",
            "y",
            "depth_value",
            "class_id",
            "class_name",
            "confidence",
            "bbox",
            "depth_median",
            "closeness",
            "rank",
        }
        box = given["bbox"]
        assert (got["class_name"], got["class_id"], got["confidence"]) == (
            given["class_name"],
            given["class_id"],
            given["confidence"],
        )
        assert got["bbox"] == pytest.approx(box, abs=0.01)
        assert got["x"] == pytest.approx((box["x1"] + box["x2"]) / 2, abs=0.01)
        assert got["y"] == pytest.approx((box["y1"] + box["y2"]) / 2, abs=0.01)
        assert stats["min_depth"] <= got["depth_median"] <= stats["max_depth"]
        assert 0 <= got["closeness"] <= 1
    # rank 1 is the nearest: for relative (inverse) depth, the largest median; closeness agrees.
    by_rank = sorted(objects, key=lambda o: o["rank"])
    assert [o["rank"] for o in by_rank] == [1, 2, 3]
    assert [o["depth_median"] for o in by_rank] == sorted((o["depth_median"] for o in objects), reverse=True)
    assert [o["closeness"] for o in by_rank] == sorted((o["closeness"] for o in objects), reverse=True)

    colored = decode_data_url(body["images"]["depth_colored"])
    side_by_side = decode_data_url(body["images"]["depth_visualization"])
    assert colored.format == side_by_side.format == "JPEG"
    assert colored.size == (width, height)
    assert side_by_side.size == (2 * width + GAP_PX, height)


def test_depth_map_png_is_16_bit_at_the_original_size_and_undoes_to_the_stats(client, photo_bytes):
    body = predict(
        client, photo_bytes["zidane.jpg"], include_depth_map="true", include_images="false"
    ).get_json()
    assert "images" not in body
    depth_map = body["depth_map"]
    picture = decode_data_url(depth_map["png16"])
    assert picture.format == "PNG" and picture.mode == "I;16"
    assert picture.size == (1280, 720) == (depth_map["width"], depth_map["height"])
    assert depth_map["semantics"] == "relative_inverse"
    depth = depth_map["offset"] + np.asarray(picture, dtype=np.float64) * depth_map["scale"]
    stats = body["depth_stats"]
    assert depth.min() == pytest.approx(stats["min_depth"], abs=1e-3)
    assert depth.max() == pytest.approx(stats["max_depth"], abs=1e-3)
    assert depth.mean() == pytest.approx(stats["mean_depth"], abs=1e-3)
    assert "encode" in body["timing_ms"]


def test_images_are_left_out_when_not_wanted(client, photo_bytes):
    body = predict(client, photo_bytes["demo08.jpg"], include_images="false").get_json()
    assert body["success"] is True
    assert "images" not in body and "depth_map" not in body and "encode" not in body["timing_ms"]
    assert body["depth_at_objects"] == []
    assert body["detection_info"] == {"detection_count": 0, "midpoints_processed": 0}


def test_pred_only_grayscale_and_colormap_change_the_pictures(client, photo_bytes):
    def pictures(**fields):
        images = predict(client, photo_bytes["demo01.jpg"], **fields).get_json()["images"]
        return {key: decode_data_url(url).convert("RGB") for key, url in images.items()}, images

    default, _ = pictures()
    only, raw = pictures(pred_only="true", grayscale="true")
    magma, _ = pictures(colormap="magma", pred_only="true")
    assert raw["depth_visualization"] == raw["depth_colored"]  # encoded once, the depth alone
    assert only["depth_visualization"].size == default["depth_colored"].size
    gray = np.asarray(only["depth_colored"], dtype=np.int16)
    assert np.abs(gray[..., 0] - gray[..., 1]).max() <= 8 and np.abs(gray[..., 1] - gray[..., 2]).max() <= 8
    colored = np.asarray(default["depth_colored"], dtype=np.int16)
    assert np.abs(colored[..., 0] - colored[..., 2]).max() > 50
    assert magma["depth_colored"].tobytes() != default["depth_colored"].tobytes()


def test_raw_jpeg_body_is_accepted(client, photo_bytes):
    response = client.post(
        "/depthapi/predict_depth?include_images=false",
        data=photo_bytes["zidane.jpg"],
        content_type="image/jpeg",
    )
    assert response.status_code == 200
    assert response.get_json()["image_info"]["original_size"] == [720, 1280]


def test_the_same_image_gives_the_same_depth(client, photo_bytes):
    first = predict(client, photo_bytes["TEST.jpg"], include_images="false").get_json()
    second = predict(client, photo_bytes["TEST.jpg"], include_images="false").get_json()
    assert first["depth_stats"] == second["depth_stats"]
