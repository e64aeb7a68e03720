"""Pictures for the page: open an upload safely, draw boxes, encode downloads. No Streamlit here."""

from __future__ import annotations

import io
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont, ImageOps

from ui.client import Box

# Colour-blind-friendly palette (Okabe-Ito), one colour per class name.
PALETTE = (
    (230, 159, 0),
    (86, 180, 233),
    (0, 158, 115),
    (240, 228, 66),
    (0, 114, 178),
    (213, 94, 0),
    (204, 121, 167),
)


class NotAnImage(ValueError):
    """The upload cannot be shown or analysed; the message says why."""


@dataclass(frozen=True)
class Label:
    """One box to draw and the text above it."""

    box: Box
    text: str
    class_name: str
    emphasis: bool = False  # the nearest object gets a thicker outline


def open_upright(data: bytes, *, max_pixels: int) -> Image.Image:
    """Decode an upload the way the APIs do: EXIF orientation applied, first frame, RGB.

    Box coordinates from the APIs refer to this upright picture.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data))
            if picture.width * picture.height > max_pixels:
                size = f"{picture.width}×{picture.height}"
                raise NotAnImage(f"the image has {size} pixels; the limit is {max_pixels:,} pixels")
            picture.load()
    except NotAnImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise NotAnImage(f"the image has more pixels than the limit of {max_pixels:,}") from None
    except Exception:  # Pillow raises many types, and libraries that patch Image.open add their own
        raise NotAnImage(
            "the file is not an image this page can read (jpg, png, webp, bmp, gif), or it is damaged"
        ) from None
    return ImageOps.exif_transpose(picture).convert("RGB")


def class_colour(class_name: str) -> tuple[int, int, int]:
    """The same colour for the same class on every picture."""
    return PALETTE[zlib.crc32(class_name.encode()) % len(PALETTE)]


def draw_labels(picture: Image.Image, labels: Sequence[Label]) -> Image.Image:
    """A copy of ``picture`` with each label's box and text drawn, the first label on top."""
    canvas = picture.convert("RGB").copy()
    draw = ImageDraw.Draw(canvas)
    short_side = min(canvas.size)
    width = max(2, round(short_side / 250))
    font = ImageFont.load_default(size=max(12, round(short_side / 45)))
    for label in reversed(labels):  # first label drawn last, so it stays readable
        colour = class_colour(label.class_name)
        x1, y1, x2, y2 = label.box.as_tuple()
        draw.rectangle((x1, y1, x2, y2), outline=colour, width=width * (2 if label.emphasis else 1))
        left, top, right, bottom = draw.textbbox((0, 0), label.text, font=font)
        text_w, text_h = right - left, bottom - top
        pad = max(2, width)
        tag_top = (
            y1 - text_h - 2 * pad if y1 - text_h - 2 * pad >= 0 else y1
        )  # inside the box at the top edge
        draw.rectangle((x1, tag_top, x1 + text_w + 2 * pad, tag_top + text_h + 2 * pad), fill=colour)
        draw.text((x1 + pad - left, tag_top + pad - top), label.text, fill=(0, 0, 0), font=font)
    return canvas


def encode(picture: Image.Image, fmt: str = "JPEG") -> bytes:
    """Image bytes for a download button."""
    buffer = io.BytesIO()
    options = {"quality": 90} if fmt == "JPEG" else {"optimize": True}
    picture.save(buffer, format=fmt, **options)
    return buffer.getvalue()
