"""What the depth model sees of a photo of any shape, and the way from its map back to the photo.

Depth Anything is a ViT: its cost grows with the number of 14x14 patches (tokens), and attention
with their square. The DPT processor scales a photo so that its short side is ``DEPTH_INPUT_SIZE``
(518), so a 6000x1000 panorama became 518x3108 pixels (8,214 tokens, 14 s on 2 cores) against
1,813 tokens for bus.jpg (1.3 s). :func:`plan_depth_input`, used by both backends, plans very long
or thin pictures as if padded (edge pixels repeated, never stretched) to at most :data:`MAX_ASPECT`,
and scales down further when the tokens would exceed :data:`MAX_TOKENS`, so what any photo costs the
model is bounded.

Nothing is built at the padded size: the photo is resized to its place inside the network's
picture (``DepthInput.inner``) and only that small picture is padded (:func:`pad_edges`). On the
way back, :func:`restore_depth` resamples just the photo's part of the predicted map to the photo's
size, bicubic on the source coordinates a full resize would use, so a 10000x10 strip no longer
resizes a map 125 times larger than what it keeps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np
from PIL import Image

#: The longest side may be at most this many times the shortest. Past it, the keep-aspect resize
#: to a multiple of the patch size (14 px) can leave the short side with no patch at all.
MAX_ASPECT = 8

#: Most patches the depth model sees: 1.35x bus.jpg's 1,813 (37x49); a 16:9 photo's 2,442 fit whole.
#: Measured in-process on 2 cores (onnx, real-size model, model call alone, 7 repeats alternated, a
#: loaded machine): the extreme shapes took 1.38-1.45x bus.jpg's at 2,450 against 1.75-1.88x at
#: 2,900, where decoding and the rest of a request left no room under 2x; docs/serving.md has more.
MAX_TOKENS = 2_450

#: The bicubic kernel's ``a`` of OpenCV's INTER_CUBIC and torch's bicubic (PIL uses -0.5).
CUBIC_A = -0.75

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class DepthInput:
    """The network's picture for one photo: its size and where the resized photo lies inside it."""

    #: ``(height, width)`` the network sees: multiples of the patch size, within the token budget.
    size: tuple[int, int]
    #: ``(left, top, right, bottom)`` of the resized photo inside the network's picture; the rest
    #: is the photo's edge pixels repeated.
    inner: Box
    #: ``(width, height)`` of the photo padded to :data:`MAX_ASPECT` at its own resolution: the
    #: shape the network's picture keeps (never built).
    padded_size: tuple[int, int]
    #: ``(left, top, right, bottom)`` of the photo inside ``padded_size``.
    box: Box

    @property
    def padding(self) -> tuple[int, int, int, int]:
        """Pixels to add ``(top, bottom, left, right)`` around the resized photo."""
        left, top, right, bottom = self.inner
        height, width = self.size
        return top, height - bottom, left, width - right

    def resized_to(self, size: tuple[int, int]) -> DepthInput:
        """The same plan for a network of another fixed ``(height, width)`` (stretched to fit)."""
        return replace(self, size=size, inner=inner_box(self.box, self.padded_size, size))


def plan_depth_input(
    image: Image.Image, target: int, multiple: int = 14, max_tokens: int = MAX_TOKENS
) -> DepthInput:
    """Plan ``image`` padded to :data:`MAX_ASPECT`, at the DPT size within the budget (see the module)."""
    padded_size, box = pad_to_aspect(*image.size)
    height, width = dpt_input_size(padded_size[1], padded_size[0], target, multiple)
    size = within_tokens(height, width, multiple, max_tokens)
    return DepthInput(size, inner_box(box, padded_size, size), padded_size, box)


def dpt_input_size(height: int, width: int, target: int, multiple: int = 14) -> tuple[int, int]:
    """The (height, width) the DPT processor resizes to with ``keep_aspect_ratio``, as transformers does.

    Scales as little as possible so that one side becomes ``target``, then rounds each side to a
    multiple of ``multiple`` (Python's rounding, as ``DPTImageProcessor``).
    """
    scale_h, scale_w = target / height, target / width
    if abs(1 - scale_w) < abs(1 - scale_h):
        scale_h = scale_w
    else:
        scale_w = scale_h
    return (
        max(round(scale_h * height / multiple) * multiple, multiple),
        max(round(scale_w * width / multiple) * multiple, multiple),
    )


def within_tokens(height: int, width: int, multiple: int, max_tokens: int) -> tuple[int, int]:
    """``(height, width)`` scaled down, aspect kept, to at most ``max_tokens`` patches of ``multiple`` px."""
    rows, columns = height // multiple, width // multiple
    if rows * columns <= max_tokens:
        return height, width
    scale = math.sqrt(max_tokens / (rows * columns))
    rows, columns = max(1, math.floor(rows * scale)), max(1, math.floor(columns * scale))
    return rows * multiple, columns * multiple


def pad_to_aspect(width: int, height: int, max_aspect: int = MAX_ASPECT) -> tuple[tuple[int, int], Box]:
    """The ``(width, height)`` of a very long or thin picture padded to ``max_aspect``, and its box in it.

    The box ``(left, top, right, bottom)`` centres the picture; a picture within the ratio is its own box.
    """
    padded_w = max(width, -(-height // max_aspect))
    padded_h = max(height, -(-width // max_aspect))
    left, top = (padded_w - width) // 2, (padded_h - height) // 2
    return (padded_w, padded_h), (left, top, left + width, top + height)


def inner_box(box: Box, padded_size: tuple[int, int], size: tuple[int, int]) -> Box:
    """Where ``box`` of a ``padded_size`` picture lands in a picture resized to ``size`` (whole pixels).

    A side the padding left alone fills the network's side; a padded side keeps its share of it
    (at least one pixel), centred as the padding was.
    """
    (padded_w, padded_h), (height, width) = padded_size, size
    left, top, right, bottom = box

    def span(start: int, stop: int, padded: int, network: int) -> tuple[int, int]:
        if (start, stop) == (0, padded):
            return 0, network
        inner = min(network, max(1, round((stop - start) * network / padded)))
        offset = (network - inner) // 2
        return offset, offset + inner

    x0, x1 = span(left, right, padded_w, width)
    y0, y1 = span(top, bottom, padded_h, height)
    return x0, y0, x1, y1


def pad_edges(pixels: np.ndarray, plan: DepthInput) -> np.ndarray:
    """``pixels`` (the photo resized to the inner box, height x width x channels) padded to the plan."""
    top, bottom, left, right = plan.padding
    if not (top or bottom or left or right):
        return pixels
    return np.pad(pixels, ((top, bottom), (left, right), (0, 0)), mode="edge")


def restore_depth(predicted: np.ndarray, plan: DepthInput, photo_size: tuple[int, int]) -> np.ndarray:
    """The photo's part of a predicted map (any size), resampled bicubic to ``photo_size`` (width, height).

    The network's picture maps onto the predicted map by scale, so the inner box's part of the map
    is the photo; only that part is resampled (float32, a new array).
    """
    map_h, map_w = predicted.shape
    height, width = plan.size
    left, top, right, bottom = plan.inner
    region = (left * map_w / width, top * map_h / height, right * map_w / width, bottom * map_h / height)
    return resample_region(np.asarray(predicted, np.float32), region, photo_size)


def resample_region(
    values: np.ndarray, region: tuple[float, float, float, float], size: tuple[int, int]
) -> np.ndarray:
    """Bicubic resample of ``region`` ``(x0, y0, x1, y1)`` (pixel edges) of a 2-D float32 array to ``size``.

    Exactly what resizing the whole array with OpenCV's INTER_CUBIC (half-pixel centres, edge
    replicated) and cropping would give, up to float rounding, at the cost of the kept part: an axis
    the region spans whole goes through ``cv2.resize``, a partial axis through its 4-tap weights.
    """
    x0, y0, x1, y1 = region
    width, height = size
    rows, columns = values.shape
    partial_y, partial_x = (y0, y1) != (0, rows), (x0, x1) != (0, columns)
    # The partial axis first: it shrinks what the other axis has to resample.
    if partial_y:
        values = cubic_weights(rows, y0, y1, height) @ values
    if partial_x:
        values = values @ cubic_weights(columns, x0, x1, width).T
    if values.shape != (height, width) or not (partial_x or partial_y):
        values = cv2.resize(values, (width, height), interpolation=cv2.INTER_CUBIC)
    return values


def cubic_weights(length: int, start: float, stop: float, count: int) -> np.ndarray:
    """A ``count`` x ``length`` matrix sampling ``[start, stop)`` of an axis at ``count`` pixel centres.

    Keys' bicubic with ``a`` = :data:`CUBIC_A` on half-pixel centres; taps past either end fall on
    the edge sample, as OpenCV's and torch's resizes do.
    """
    centres = start + (np.arange(count) + 0.5) * ((stop - start) / count) - 0.5
    first = np.floor(centres)
    t = centres - first
    weights = np.zeros((count, length), np.float64)
    rows = np.arange(count)
    for tap in range(-1, 3):
        distance = np.abs(t - tap)
        near = ((CUBIC_A + 2) * distance - (CUBIC_A + 3)) * distance**2 + 1
        far = ((CUBIC_A * distance - 5 * CUBIC_A) * distance + 8 * CUBIC_A) * distance - 4 * CUBIC_A
        tap_weights = np.where(distance <= 1, near, np.where(distance < 2, far, 0.0))
        columns = np.clip(first + tap, 0, length - 1).astype(np.intp)
        np.add.at(weights, (rows, columns), tap_weights)
    return weights.astype(np.float32)
