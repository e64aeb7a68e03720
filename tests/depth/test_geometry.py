"""The way to the depth network and back for photos of any shape: planned small, restored as before."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from apis.depth.geometry import MAX_ASPECT, pad_edges, plan_depth_input, resample_region, restore_depth

# (width, height): normal photos, a panorama, the strips of issue 13, thin and tiny pictures.
SHAPES = [
    (810, 1080),
    (1280, 720),
    (6000, 1000),
    (10_000, 10),
    (10, 10_000),
    (3, 300),
    (62, 4),
    (1, 9),
    (1, 1),
]


def smooth_map(shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    """A float32 map shaped like a depth map: smooth, positive, a few units of range."""
    noise = np.random.default_rng(seed).random(shape, dtype=np.float32)
    return cv2.GaussianBlur(noise, (0, 0), 2) * 10 + 1


def resize_then_crop(predicted: np.ndarray, padded_size: tuple[int, int], box) -> np.ndarray:
    """What both backends did before: the whole map resized to the padded picture, then cropped."""
    whole = cv2.resize(predicted, padded_size, interpolation=cv2.INTER_CUBIC)
    left, top, right, bottom = box
    return whole[top:bottom, left:right]


@pytest.mark.parametrize("map_scale", [1.0, 0.5])
@pytest.mark.parametrize("size", SHAPES)
def test_resampling_the_photos_region_equals_resizing_the_whole_map_then_cropping(size, map_scale):
    plan = plan_depth_input(Image.new("RGB", size), 518)
    height, width = plan.size
    predicted = smooth_map((max(1, round(height * map_scale)), max(1, round(width * map_scale))))
    (padded_w, padded_h), (left, top, right, bottom) = plan.padded_size, plan.box
    rows, columns = predicted.shape
    region = (
        left * columns / padded_w,
        top * rows / padded_h,
        right * columns / padded_w,
        bottom * rows / padded_h,
    )

    expected = resize_then_crop(predicted, plan.padded_size, plan.box)
    actual = resample_region(predicted, region, size)

    assert actual.shape == expected.shape == (size[1], size[0])
    assert actual.dtype == np.float32
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-5 * float(np.ptp(predicted)))


@pytest.mark.parametrize("size", [(810, 1080), (6000, 1000), (1, 1)])
def test_a_photo_that_needs_no_padding_gets_the_whole_map_resized(size):
    plan = plan_depth_input(Image.new("RGB", size), 518)
    assert plan.inner == (0, 0, plan.size[1], plan.size[0]) and plan.padding == (0, 0, 0, 0)
    predicted = smooth_map(plan.size)

    restored = restore_depth(predicted, plan, size)

    np.testing.assert_array_equal(restored, cv2.resize(predicted, size, interpolation=cv2.INTER_CUBIC))
    assert restored is not predicted


@pytest.mark.parametrize("size", SHAPES)
def test_the_photo_keeps_its_share_of_the_planned_picture(size):
    plan = plan_depth_input(Image.new("RGB", size), 518)
    height, width = plan.size
    left, top, right, bottom = plan.inner
    (padded_w, padded_h), box = plan.padded_size, plan.box
    assert max(padded_w, padded_h) <= MAX_ASPECT * min(padded_w, padded_h)
    assert 0 <= left < right <= width and 0 <= top < bottom <= height
    # Its share of each side, to a pixel, centred as the padding is.
    assert abs((right - left) - (box[2] - box[0]) * width / padded_w) <= 1
    assert abs((bottom - top) - (box[3] - box[1]) * height / padded_h) <= 1
    pad_top, pad_bottom, pad_left, pad_right = plan.padding
    assert abs(pad_top - pad_bottom) <= 1 and abs(pad_left - pad_right) <= 1


@pytest.mark.parametrize("size", [(10_000, 10), (10, 10_000), (62, 4)])
def test_only_the_resized_photo_is_padded_with_its_edge_pixels(size):
    plan = plan_depth_input(Image.new("RGB", size), 518)
    left, top, right, bottom = plan.inner
    inner = np.random.default_rng(1).integers(0, 256, (bottom - top, right - left, 3), dtype=np.uint8)

    picture = pad_edges(inner, plan)

    assert picture.shape == (*plan.size, 3)
    np.testing.assert_array_equal(picture[top:bottom, left:right], inner)
    # Every padded pixel repeats the nearest pixel of the photo.
    rows = np.clip(np.arange(plan.size[0]), top, bottom - 1)
    columns = np.clip(np.arange(plan.size[1]), left, right - 1)
    np.testing.assert_array_equal(picture, picture[rows][:, columns])


def test_a_fixed_network_size_keeps_the_photo_centred_in_its_share():
    plan = plan_depth_input(Image.new("RGB", (10_000, 10)), 518).resized_to((518, 518))
    left, top, right, bottom = plan.inner
    assert (left, right) == (0, 518)
    assert bottom - top == round(10 * 518 / plan.padded_size[1]) and top == (518 - (bottom - top)) // 2


@pytest.mark.parametrize(
    ("source", "target"), [((37, 49), (1080, 810)), ((19, 152), (10, 1000)), ((100, 80), (30, 21))]
)
def test_torch_and_opencv_bicubic_agree(source, target):
    """The torch backend used torch's bicubic; both now use OpenCV's (a = -0.75, half-pixel centres)."""
    import torch

    predicted = smooth_map(source)
    by_torch = torch.nn.functional.interpolate(
        torch.from_numpy(predicted)[None, None], size=target, mode="bicubic", align_corners=False
    )[0, 0].numpy()
    by_opencv = cv2.resize(predicted, target[::-1], interpolation=cv2.INTER_CUBIC)
    np.testing.assert_allclose(by_opencv, by_torch, rtol=0, atol=1e-5 * float(np.ptp(predicted)))


@pytest.mark.parametrize(
    "box", [(0, 0, 7, 90), (293, 0, 300, 90), (0, 0, 300, 3), (5, 88, 297, 90), (1, 2, 4, 9)]
)
def test_regions_at_the_edges_of_the_map_repeat_its_edge_as_opencv_does(box):
    """Past the map's edges the taps fall on the edge sample, on a partial axis as on a whole one."""
    predicted = smooth_map((9, 31), seed=2)
    left, top, right, bottom = box
    scale_x, scale_y = 31 / 300, 9 / 90
    region = (left * scale_x, top * scale_y, right * scale_x, bottom * scale_y)

    actual = resample_region(predicted, region, (right - left, bottom - top))

    expected = resize_then_crop(predicted, (300, 90), box)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-5 * float(np.ptp(predicted)))
