"""The onnx backends answer like the torch backends on the real photos (tiny random models)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from apis.depth.geometry import dpt_input_size
from apis.detection.backends import DetectParams
from apis.detection.onnx_model import inference_shape, letterbox, non_max_suppression, scale_boxes
from tests.conftest import PHOTOS

BOX_PX = 1.0
CONFIDENCE = 1e-3
# Pillow's and torchvision's bicubic resize of 8-bit pictures differ by one grey level on a few
# pixels in a thousand; the random tiny models amplify that locally, the metric head most.
DEPTH_MEAN_OF_RANGE = 1e-3
DEPTH_MAX_OF_RANGE = 3e-2

# End to end, the two runtimes' outputs differ by ~1e-5 in score: at low thresholds a random model
# has many near-equal candidates whose NMS order that can flip, so low thresholds are tested on one
# shared raw output instead (test_postprocessing_is_ultralytics).
PARAMS = {
    "defaults": {},
    "classes-and-max-det": {"classes": [0, 16], "max_det": 3},
    "odd-imgsz-strict-iou": {"imgsz": 500, "iou": 0.2},
}
POSTPROCESS_PARAMS = {
    "low-conf": {"conf": 0.05},
    "no-conf-loose-iou": {"conf": 0.0, "iou": 0.7, "max_det": 1000},
    "classes": {"conf": 0.05, "classes": [2, 16]},
    "max-det": {"conf": 0.05, "max_det": 7},
}


def _photo(images_dir, name: str) -> Image.Image:
    return Image.open(images_dir / name).convert("RGB")


def _unmatched(expected, actual) -> list:
    """Detections of ``expected`` with no counterpart (same class, box within 1 px, confidence within 1e-3).

    Matched as sets: among nearly equal confidences the order is arbitrary.
    """
    left = list(actual)
    missing = []
    for want in expected:
        for got in left:
            if (
                got.class_id == want.class_id
                and abs(got.confidence - want.confidence) <= CONFIDENCE
                and max(abs(getattr(got, k) - getattr(want, k)) for k in ("x1", "y1", "x2", "y2")) <= BOX_PX
            ):
                left.remove(got)
                break
        else:
            missing.append(want)
    return missing


@pytest.mark.parametrize("case", PARAMS)
@pytest.mark.parametrize("name", PHOTOS)
def test_detections_match_the_torch_backend(torch_detector, onnx_detector, images_dir, name, case):
    params = DetectParams(**{**vars(torch_detector.default_params()), **PARAMS[case]})
    photo = _photo(images_dir, name)

    expected = torch_detector.predict(photo, params).detections
    actual = onnx_detector.predict(photo, params).detections

    assert expected, "the calibrated random model should see something in every photo"
    assert len(actual) == len(expected)
    assert not _unmatched(expected, actual)
    confidences = [d.confidence for d in actual]
    assert confidences == sorted(confidences, reverse=True)
    assert {d.class_id for d in actual} <= set(params.classes or onnx_detector.names)


def test_detection_timing_and_names_have_the_same_keys(torch_detector, onnx_detector, images_dir):
    photo = _photo(images_dir, "bus.jpg")
    params = torch_detector.default_params()

    assert onnx_detector.names == torch_detector.names
    assert (
        onnx_detector.predict(photo, params).timing_ms.keys()
        == torch_detector.predict(photo, params).timing_ms.keys()
    )
    assert onnx_detector.resolve_classes(["person", "2"]) == [0, 2]


def test_annotated_images_look_alike(torch_detector, onnx_detector, images_dir):
    photo = _photo(images_dir, "zidane.jpg")
    params = torch_detector.default_params()

    drawn_by_torch = np.asarray(torch_detector.predict(photo, params).annotated(), np.int16)
    drawn_by_onnx = np.asarray(onnx_detector.predict(photo, params).annotated(), np.int16)

    assert drawn_by_onnx.shape == drawn_by_torch.shape == (photo.height, photo.width, 3)
    assert np.abs(drawn_by_onnx - np.asarray(photo, np.int16)).mean() > 1  # boxes were drawn
    assert np.abs(drawn_by_onnx - drawn_by_torch).mean() < 1  # and they are ultralytics' boxes


@pytest.mark.parametrize("name", PHOTOS)
def test_depth_maps_match_the_torch_backend(depth_pair, images_dir, name):
    original, exported = depth_pair
    photo = _photo(images_dir, name)

    expected = original.predict(photo).depth
    actual = exported.predict(photo).depth

    assert actual.shape == expected.shape == (photo.height, photo.width)
    assert actual.dtype == np.float32
    spread = float(expected.max() - expected.min())
    error = np.abs(actual - expected)
    assert error.mean() <= DEPTH_MEAN_OF_RANGE * spread
    assert error.max() <= DEPTH_MAX_OF_RANGE * spread
    assert actual.min() >= 0 and (exported.max_depth is None or actual.max() <= exported.max_depth)


@pytest.mark.parametrize("size", [(4, 62), (300, 3), (10_000, 10)])
def test_thin_pictures_are_padded_alike_by_both_backends(depth_pair, images_dir, size):
    """Both backends pad a very thin picture before the model (see apis/depth/geometry.py)."""
    original, exported = depth_pair
    photo = _photo(images_dir, "bus.jpg").resize(size)
    expected = original.predict(photo).depth
    actual = exported.predict(photo).depth
    assert actual.shape == expected.shape == (size[1], size[0])
    spread = float(expected.max() - expected.min()) or 1.0
    assert np.abs(actual - expected).mean() <= DEPTH_MEAN_OF_RANGE * spread * 10


def test_depth_model_facts_match(depth_pair):
    original, exported = depth_pair

    assert exported.semantics is original.semantics
    assert exported.max_depth == original.max_depth
    assert exported.parameter_count == original.parameter_count > 0
    assert exported.backend == "onnx" and original.backend == "torch"


@pytest.mark.parametrize(("height", "width"), [(1080, 810), (720, 1280), (518, 518), (100, 3000), (37, 41)])
def test_depth_input_size_is_the_dpt_processors(height, width):
    import torch
    from transformers.models.dpt.image_processing_dpt import get_resize_output_image_size

    for target in (266, 518):
        expected = get_resize_output_image_size(
            torch.zeros(3, height, width), (target, target), keep_aspect_ratio=True, multiple=14
        )
        assert dpt_input_size(height, width, target) == (expected.height, expected.width)


@pytest.mark.parametrize("imgsz", [320, 500, 640])
@pytest.mark.parametrize("name", PHOTOS)
def test_letterbox_is_ultralytics(images_dir, name, imgsz):
    from ultralytics.data.augment import LetterBox

    rgb = np.asarray(_photo(images_dir, name))
    side = inference_shape(imgsz, 32)

    expected = LetterBox((side, side), auto=True, stride=32)(image=np.ascontiguousarray(rgb[..., ::-1]))
    actual, _ = letterbox(rgb, (side, side), stride=32, auto=True)

    np.testing.assert_array_equal(actual, expected[..., ::-1])


@pytest.mark.parametrize("case", POSTPROCESS_PARAMS)
@pytest.mark.parametrize("name", ["bus.jpg", "demo01.jpg"])
def test_postprocessing_is_ultralytics(onnx_detector, images_dir, name, case):
    import torch
    from ultralytics.utils import nms, ops

    defaults = vars(onnx_detector.default_params())
    params = DetectParams(**{**defaults, "imgsz": 320, **POSTPROCESS_PARAMS[case]})
    rgb = np.asarray(_photo(images_dir, name))
    padded, placement = letterbox(rgb, (320, 320), stride=32, auto=True)
    batch = padded.transpose(2, 0, 1)[None].astype(np.float32) / 255
    raw = onnx_detector.onnx.run(batch)

    kept = nms.non_max_suppression(
        torch.from_numpy(raw), params.conf, params.iou, params.classes, max_det=params.max_det
    )[0]
    kept[:, :4] = ops.scale_boxes(padded.shape[:2], kept[:, :4], rgb.shape[:2])
    boxes, confidences, class_ids = non_max_suppression(raw[0], params)
    boxes = scale_boxes(boxes, placement, rgb.shape[:2])

    def rows(table: np.ndarray) -> np.ndarray:
        return table[np.lexsort(table.T[::-1])]

    actual = np.column_stack([boxes, confidences, class_ids])
    assert len(actual) == len(kept) > 0
    np.testing.assert_allclose(rows(actual), rows(kept.numpy()), atol=1e-3)


def test_letterbox_pads_to_the_stride_or_to_a_fixed_shape():
    image = np.zeros((1080, 810, 3), np.uint8)

    rectangle, placement = letterbox(image, (640, 640), stride=32, auto=True)
    square, _ = letterbox(image, (640, 640), stride=32, auto=False)

    assert rectangle.shape == (640, 480, 3) and placement.pad == (0, 0)
    assert square.shape == (640, 640, 3)
    assert inference_shape(500, 32) == 512 and inference_shape(10, 32) == 32
