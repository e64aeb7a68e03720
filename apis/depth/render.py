"""Pictures of a depth map: coloured, side by side with the photo, and exact as a 16-bit PNG."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

# The white band between the photo and its depth, as in Depth Anything's own demo.
GAP_PX = 50
SUGGESTED_COLORMAPS = ("Spectral_r", "magma", "inferno", "viridis", "plasma", "turbo", "gray")


def colormap_names() -> list[str]:
    import matplotlib

    return sorted(matplotlib.colormaps)


def check_colormap(name: str) -> str:
    """Return ``name`` if matplotlib knows it, else raise ``KeyError`` with some valid names."""
    import matplotlib

    if name not in matplotlib.colormaps:
        raise KeyError(
            f"unknown colormap {name!r}; try one of {', '.join(SUGGESTED_COLORMAPS)} (any matplotlib name)"
        )
    return name


def colorize(nearness: np.ndarray, colormap: str, *, grayscale: bool = False) -> Image.Image:
    """Paint a ``0..1`` nearness map (1 = nearest) with ``colormap``, or in grey (white = nearest)."""
    levels = np.clip(np.rint(nearness * 255), 0, 255).astype(np.uint8)
    if grayscale:
        return Image.fromarray(levels).convert("RGB")
    import matplotlib

    lut = (matplotlib.colormaps[colormap](np.arange(256))[:, :3] * 255).round().astype(np.uint8)
    return Image.fromarray(lut[levels])


def side_by_side(original: Image.Image, colored: Image.Image, gap: int = GAP_PX) -> Image.Image:
    """The photo, a white band, and its coloured depth, left to right."""
    canvas = Image.new("RGB", (original.width + gap + colored.width, original.height), (255, 255, 255))
    canvas.paste(original, (0, 0))
    canvas.paste(colored, (original.width + gap, 0))
    return canvas


def depth_png16(depth: np.ndarray) -> tuple[Image.Image, dict[str, Any]]:
    """The map as 16-bit grey levels, and how to undo it: ``depth = offset + level * scale``."""
    low, high = float(depth.min()), float(depth.max())
    scale = (high - low) / 65535 if high > low else 0.0
    levels = (
        np.zeros(depth.shape, np.uint16) if scale == 0 else np.rint((depth - low) / scale).astype(np.uint16)
    )
    return Image.fromarray(levels), {
        "offset": low,
        "scale": scale,
        "width": depth.shape[1],
        "height": depth.shape[0],
    }
