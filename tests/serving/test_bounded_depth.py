"""Any photo reaches the depth model within a token budget, and still gets a map of its own size."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from PIL import Image

from apis.depth.backends import create_estimator
from apis.depth.demo import build_random_depth_anything
from apis.depth.geometry import MAX_ASPECT, MAX_TOKENS, dpt_input_size, plan_depth_input
from apis.depth.settings import DepthSettings

PATCH = 14
# The shapes the issue measured: 21 s, 44 s and 14 s for the full model before the token budget.
EXTREME_SIZES = [(10_000, 10), (10, 10_000), (6_000, 1_000), (4_000, 1_000)]


def tokens(size: tuple[int, int]) -> int:
    height, width = size
    return (height // PATCH) * (width // PATCH)


@pytest.mark.parametrize("size", [*EXTREME_SIZES, (7_300, 5_480), (1, 1), (810, 1080)])
def test_the_planned_input_fits_the_token_budget_and_keeps_the_padded_shape(size):
    plan = plan_depth_input(Image.new("RGB", size), 518)
    height, width = plan.size
    assert height % PATCH == 0 and width % PATCH == 0
    assert 1 <= tokens(plan.size) <= MAX_TOKENS
    # Padded, never stretched: the network's aspect ratio is the padded picture's (to a patch).
    picture_w, picture_h = plan.padded_size
    assert max(picture_w, picture_h) <= MAX_ASPECT * min(picture_w, picture_h)
    assert width / height == pytest.approx(picture_w / picture_h, rel=0.1, abs=2 * PATCH / height)
    left, top, right, bottom = plan.box
    assert (right - left, bottom - top) == size


def test_a_normal_photo_is_planned_exactly_as_the_dpt_processor_does():
    plan = plan_depth_input(Image.new("RGB", (810, 1080)), 518)
    assert plan.size == dpt_input_size(1080, 810, 518) == (686, 518)
    assert plan.box == (0, 0, 810, 1080) and plan.padded_size == (810, 1080)


@pytest.fixture(scope="module", params=["torch", "onnx"])
def estimator(request, tmp_path_factory):
    """A tiny random Depth Anything on each backend, with a budget of bus.jpg's own tokens at 266."""
    folder = build_random_depth_anything(tmp_path_factory.mktemp("depth") / "tiny", tiny=True)
    bus_tokens = tokens(dpt_input_size(1080, 810, 266))
    settings = DepthSettings(
        model=str(folder), allow_download=False, input_size=266, max_tokens=bus_tokens, backend=request.param
    )
    if request.param == "onnx":
        from apis.export.depth import export_depth

        onnx_path = folder.parent / "depth.onnx"
        export_depth(settings, onnx_path, onnx_path.with_suffix(".json"))
        settings = settings.model_copy(update={"onnx_path": onnx_path})
    model = create_estimator(settings, device="cpu")
    model.load()
    return model


@contextmanager
def network_inputs(estimator, monkeypatch) -> Iterator[list[tuple[int, int]]]:
    """Records the (height, width) of every array the network is given."""
    seen: list[tuple[int, int]] = []
    if estimator.backend == "onnx":
        run = estimator.onnx.run

        def spy(batch):
            seen.append(batch.shape[-2:])
            return run(batch)

        monkeypatch.setattr(estimator.onnx, "run", spy)
        yield seen
        return
    hook = estimator._model.register_forward_pre_hook(
        lambda _module, _args, kwargs: seen.append(tuple(kwargs["pixel_values"].shape[-2:])), with_kwargs=True
    )
    try:
        yield seen
    finally:
        hook.remove()


@pytest.mark.parametrize("size", EXTREME_SIZES)
def test_a_panorama_gets_a_map_of_its_own_size_from_a_bounded_input(estimator, monkeypatch, images_dir, size):
    photo = Image.open(images_dir / "bus.jpg").convert("RGB").resize(size)
    with network_inputs(estimator, monkeypatch) as seen:
        depth = estimator.predict(photo).depth
    assert depth.shape == (size[1], size[0])
    assert np.isfinite(depth).all() and depth.min() >= 0
    (shape,) = seen
    assert tokens(shape) <= estimator.config.max_tokens
