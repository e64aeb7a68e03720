"""Photos the APIs accept but that are unusual in shape, mode or container, made in memory."""

from __future__ import annotations

import numpy as np
from PIL import Image

from tests.support.images import encode, gradient, with_exif_orientation


def _animated(fmt: str) -> bytes:
    frames = [gradient(120, 90), Image.new("RGB", (120, 90), (200, 30, 30))]
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


def sixteen_bit_png() -> bytes:
    ramp = np.linspace(0, 65535, 160 * 120, dtype=np.uint16).reshape(120, 160)
    return encode(Image.fromarray(ramp), "PNG")


def accepted_photos() -> dict[str, tuple[bytes, str]]:
    """File name → (bytes, MIME type): every kind of photo the APIs accept and the page must show."""
    return {
        "panorama-10000x10.png": (encode(gradient(10000, 10), "PNG"), "image/png"),
        "tower-10x10000.png": (encode(gradient(10, 10000), "PNG"), "image/png"),
        "dot-1x1.png": (encode(Image.new("RGB", (1, 1), (9, 99, 199)), "PNG"), "image/png"),
        "big-40mp.jpg": (encode(gradient(8000, 5000), "JPEG", quality=70), "image/jpeg"),
        "exif-rotated.jpg": (with_exif_orientation(gradient(300, 200), 6), "image/jpeg"),
        "grayscale.jpg": (encode(gradient(200, 150).convert("L"), "JPEG"), "image/jpeg"),
        "cmyk.jpg": (encode(gradient(200, 150).convert("CMYK"), "JPEG"), "image/jpeg"),
        "sixteen-bit.png": (sixteen_bit_png(), "image/png"),
        "animated.gif": (_animated("GIF"), "image/gif"),
        "animated.webp": (_animated("WEBP"), "image/webp"),
        "scan.tiff": (encode(gradient(200, 150), "TIFF"), "image/tiff"),
    }
