"""A strip or a panorama costs the onnx backend's pre- and post-processing no more than a normal photo.

The network is a stand-in that records what it is given and answers a map of that size, so these
tests see only the work around the model: the photo resized to its place, padded, and the photo's
part of the map resampled back.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from apis.depth.backends import OnnxDepthConfig
from apis.depth.geometry import MAX_TOKENS, plan_depth_input
from apis.depth.onnx_model import OnnxDepthEstimator

STRIPS = [(10_000, 10), (10, 10_000), (6_000, 1_000)]


class RecordingNetwork:
    """Stands in for an opened ONNX model: keeps each batch, answers a smooth map of the batch's size."""

    def __init__(self, fixed_shape: tuple[int, int] | None = None) -> None:
        self.fixed_shape = fixed_shape
        self.batches: list[np.ndarray] = []

    def run(self, batch: np.ndarray) -> np.ndarray:
        self.batches.append(batch)
        height, width = batch.shape[-2:]
        rows, columns = np.mgrid[0:height, 0:width].astype(np.float32)
        return (2 + np.sin(rows / 7) + np.cos(columns / 11))[None]


def estimator(network: RecordingNetwork) -> OnnxDepthEstimator:
    config = OnnxDepthConfig(
        Path("unused.onnx"), Path("unused.json"), "unused", input_size=518, max_tokens=MAX_TOKENS
    )
    model = OnnxDepthEstimator(config)
    model.onnx = network
    return model


@pytest.fixture(scope="module")
def bus(images_dir) -> Image.Image:
    return Image.open(images_dir / "bus.jpg").convert("RGB")


def peak_numpy_bytes(model: OnnxDepthEstimator, photo: Image.Image) -> int:
    tracemalloc.start()
    try:
        model.predict(photo)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("size", STRIPS[:2])
def test_a_strip_takes_no_more_memory_than_a_normal_photo(bus, size):
    """Before, a 10000x10 strip was padded to 10000x1250 and its map resized to that: 4.5x bus.jpg's peak."""
    model = estimator(RecordingNetwork())
    normal = peak_numpy_bytes(model, bus)
    strip = peak_numpy_bytes(model, bus.resize(size))
    assert strip <= 1.5 * normal


@pytest.mark.parametrize("size", STRIPS)
def test_the_network_gets_the_resized_photo_padded_with_its_edges(bus, size):
    network = RecordingNetwork()
    depth = estimator(network).predict(bus.resize(size)).depth

    assert depth.shape == (size[1], size[0]) and depth.dtype == np.float32
    assert depth.min() >= 0
    (batch,) = network.batches
    plan = plan_depth_input(bus.resize(size), 518)
    assert batch.shape == (1, 3, *plan.size)
    left, top, right, bottom = plan.inner
    rows = np.clip(np.arange(plan.size[0]), top, bottom - 1)
    columns = np.clip(np.arange(plan.size[1]), left, right - 1)
    np.testing.assert_array_equal(batch, batch[:, :, rows][:, :, :, columns])
    # The photo's part is the photo: its colours vary there (bus.jpg squeezed, not a flat edge).
    assert batch[:, :, top:bottom, left:right].std() > 0.02


@pytest.mark.parametrize("size", [(810, 1080), (10_000, 10)])
def test_an_export_of_fixed_size_gets_that_size_and_the_map_keeps_the_photos(bus, size):
    network = RecordingNetwork(fixed_shape=(518, 518))
    depth = estimator(network).predict(bus.resize(size)).depth
    assert network.batches[0].shape == (1, 3, 518, 518)
    assert depth.shape == (size[1], size[0])
