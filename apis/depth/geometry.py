"""What the depth model sees of a photo of any shape: padded to a sane aspect ratio, within a token budget.

Depth Anything is a ViT: its cost grows with the number of 14x14 patches (tokens), and attention
with their square. The DPT processor scales a photo so that its short side is ``DEPTH_INPUT_SIZE``
(518), so a 6000x1000 panorama became 518x3108 pixels (8,214 tokens, 14 s on 2 cores) against
1,813 tokens for bus.jpg (1.3 s). :func:`plan_depth_input`, used by both backends, pads very long
or thin pictures (edge pixels repeated, never stretched) to at most :data:`MAX_ASPECT`, and scales
down further when the tokens would exceed :data:`MAX_TOKENS`, so what any photo costs the model is
bounded. The depth map is still returned at the photo's own size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

#: The longest side may be at most this many times the shortest. Past it, the keep-aspect resize
#: to a multiple of the patch size (14 px) can leave the short side with no patch at all.
MAX_ASPECT = 8

#: Most patches the depth model sees: 1.6x bus.jpg's 1,813 (37x49). Measured in-process on 2 cores
#: (onnx, full-size model, a loaded machine): extreme shapes at this budget took 1.7-2.5x bus.jpg's
#: model time; docs/serving.md has the latest numbers.
MAX_TOKENS = 2_900


@dataclass(frozen=True)
class DepthInput:
    """The picture to resize to ``size`` (padded if needed) and where the original lies inside it."""

    picture: Image.Image
    #: ``(left, top, right, bottom)`` of the original photo inside ``picture``.
    box: tuple[int, int, int, int]
    #: ``(height, width)`` the network sees: multiples of the patch size, within the token budget.
    size: tuple[int, int]


def plan_depth_input(
    image: Image.Image, target: int, multiple: int = 14, max_tokens: int = MAX_TOKENS
) -> DepthInput:
    """Pad ``image`` to :data:`MAX_ASPECT` and choose the network's input size for it (see the module)."""
    picture, box = pad_to_aspect(image)
    height, width = dpt_input_size(picture.height, picture.width, target, multiple)
    return DepthInput(picture, box, within_tokens(height, width, multiple, max_tokens))


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


def pad_to_aspect(
    image: Image.Image, max_aspect: int = MAX_ASPECT
) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """Pad a very long or very thin RGB picture (edge pixels repeated) to at most ``max_aspect``.

    Returns the picture to run and the box ``(left, top, right, bottom)`` of the original inside it,
    so the depth map can be cropped back to the original pixels.
    """
    width, height = image.size
    target_w = max(width, -(-height // max_aspect))
    target_h = max(height, -(-width // max_aspect))
    if (target_w, target_h) == (width, height):
        return image, (0, 0, width, height)
    left, top = (target_w - width) // 2, (target_h - height) // 2
    pixels = np.pad(
        np.asarray(image),
        ((top, target_h - height - top), (left, target_w - width - left), (0, 0)),
        mode="edge",
    )
    return Image.fromarray(pixels), (left, top, left + width, top + height)
