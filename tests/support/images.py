"""Build image files in memory for bad-input and normalisation tests."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image


def encode(picture: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def decode_data_url(url: str) -> Image.Image:
    """Open a ``data:image/...;base64,`` URL as a Pillow image."""
    header, payload = url.split(",", 1)
    assert header.startswith("data:image/") and header.endswith(";base64"), header
    return Image.open(io.BytesIO(base64.b64decode(payload)))


def gradient(width: int, height: int) -> Image.Image:
    """An RGB picture with structure (not a flat colour)."""
    x = np.linspace(0, 255, width, dtype=np.float32)
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    rgb = np.stack(
        [np.broadcast_to(x, (height, width)), np.broadcast_to(y, (height, width)), (x + y) % 256], axis=-1
    )
    return Image.fromarray(rgb.astype(np.uint8))


def with_exif_orientation(picture: Image.Image, orientation: int) -> bytes:
    """A JPEG whose pixels are stored as given but whose EXIF says to rotate them."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(picture, "JPEG", exif=exif.tobytes())


def animated_gif(width: int, height: int, frames: int = 3) -> bytes:
    pictures = [Image.new("RGB", (width, height), (40 * i, 80, 160)) for i in range(frames)]
    return encode(pictures[0], "GIF", save_all=True, append_images=pictures[1:], duration=100, loop=0)
