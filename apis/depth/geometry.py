"""Keeping odd image shapes inside what the depth model can take."""

from __future__ import annotations

import numpy as np
from PIL import Image

#: The longest side may be at most this many times the shortest. Past it, the keep-aspect resize
#: to a multiple of the patch size (14 px) can leave the short side with no patch at all.
MAX_ASPECT = 8


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
