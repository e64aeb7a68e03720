"""Pictures for the page: open an upload safely, draw boxes, encode downloads. No Streamlit here."""

from __future__ import annotations

import io
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
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


# Longest side of a picture sent to the browser, and the most elongated shape shown as is: a
# 10000×10 panorama scaled into a column would be 0 pixels high.
DISPLAY_MAX_SIDE = 2048
DISPLAY_MAX_RATIO = 6.0
# Labels with text on a busy picture: the nearest few (and the selected one); the rest are boxes only.
TEXT_LABELS = 5
DIM_TO = 0.35  # what is left of the other objects' brightness while one is selected
HIGH_BIT_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")


def open_upright(data: bytes, *, max_pixels: int) -> Image.Image:
    """Decode an upload the way the APIs do: EXIF orientation applied, first frame, 8-bit RGB.

    Box coordinates from the APIs refer to this upright picture.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data))
            if picture.width * picture.height > max_pixels:
                size = f"{picture.width}×{picture.height}"
                raise NotAnImage(f"the image has {size} pixels; the limit is {max_pixels:,} pixels")
            picture.seek(0)  # animated GIF/WebP: the first frame, as the APIs use
            picture.load()
            return to_rgb(ImageOps.exif_transpose(picture))
    except NotAnImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise NotAnImage(f"the image has more pixels than the limit of {max_pixels:,}") from None
    except Exception:  # Pillow raises many types, and libraries that patch Image.open add their own
        raise NotAnImage(
            "the file is not an image this page can read (jpg, png, webp, bmp, gif, tiff), or it is damaged"
        ) from None


def to_rgb(picture: Image.Image) -> Image.Image:
    """8-bit RGB as the APIs see it: 16-bit and float scaled down, transparency onto white."""
    if picture.mode in HIGH_BIT_MODES:
        values = np.asarray(picture, dtype=np.float32)
        if picture.mode == "F":
            low, high = float(values.min()), float(values.max())
            values = (values - low) * (255.0 / (high - low)) if high > low else values * 0
        elif values.max() > 255:
            values = values / 257.0
        return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8)).convert("RGB")
    if picture.mode == "P" and "transparency" in picture.info:
        picture = picture.convert("RGBA")
    if picture.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = picture.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return picture.convert("RGB")


def for_display(picture: Image.Image, max_side: int = DISPLAY_MAX_SIDE) -> Image.Image:
    """A picture any page column can show: at most ``max_side`` long, padded when elongated.

    Panoramas are centred on a grey band so that scaling to the column keeps at least a few rows.
    """
    shown = picture.copy()
    shown.thumbnail((max_side, max_side))
    width, height = shown.size
    if width > height * DISPLAY_MAX_RATIO:
        canvas = Image.new("RGB", (width, round(width / DISPLAY_MAX_RATIO)), (240, 240, 240))
    elif height > width * DISPLAY_MAX_RATIO:
        canvas = Image.new("RGB", (round(height / DISPLAY_MAX_RATIO), height), (240, 240, 240))
    else:
        return shown
    canvas.paste(shown, ((canvas.width - width) // 2, (canvas.height - height) // 2))
    return canvas


def class_colour(class_name: str) -> tuple[int, int, int]:
    """The same colour for the same class on every picture."""
    return PALETTE[zlib.crc32(class_name.encode()) % len(PALETTE)]


def draw_labels(
    picture: Image.Image,
    labels: Sequence[Label],
    *,
    selected: int | None = None,
    text_labels: int = TEXT_LABELS,
) -> Image.Image:
    """A copy of ``picture`` with each label's box drawn, the first label on top.

    Only the first ``text_labels`` labels (and the ``selected`` one) carry their text, so that text
    stays readable on a busy photo. With a ``selected`` index, everything but that box is dimmed.
    """
    canvas = picture.convert("RGB").copy()
    if selected is not None and 0 <= selected < len(labels):
        canvas = _spotlight(canvas, labels[selected].box)
        order = [i for i in reversed(range(len(labels))) if i != selected] + [selected]
    else:
        selected = None
        order = list(reversed(range(len(labels))))  # first label drawn last, so it stays readable
    draw = ImageDraw.Draw(canvas)
    short_side = max(1, min(canvas.size))
    width = max(2, round(short_side / 250))
    font = ImageFont.load_default(size=max(12, round(short_side / 30)))
    for index in order:
        label = labels[index]
        faint = selected is not None and index != selected
        colour = _dim(class_colour(label.class_name)) if faint else class_colour(label.class_name)
        x1, y1, x2, y2 = label.box.as_tuple()
        thick = 2 if label.emphasis or index == selected else 1
        draw.rectangle((x1, y1, max(x1, x2), max(y1, y2)), outline=colour, width=width * thick)
        if faint or (index >= text_labels and index != selected):
            continue
        left, top, right, bottom = draw.textbbox((0, 0), label.text, font=font)
        text_w, text_h = right - left, bottom - top
        pad = max(2, width)
        tag_top = y1 - text_h - 2 * pad if y1 - text_h - 2 * pad >= 0 else y1  # inside the box at the top
        tag_left = max(0, min(x1, canvas.width - text_w - 2 * pad))  # the whole tag inside the picture
        draw.rectangle(
            (tag_left, tag_top, tag_left + text_w + 2 * pad, tag_top + text_h + 2 * pad), fill=colour
        )
        draw.text((tag_left + pad - left, tag_top + pad - top), label.text, fill=(0, 0, 0), font=font)
    return canvas


def _dim(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    return tuple(round(c * DIM_TO + 255 * (1 - DIM_TO) * 0.5) for c in colour)  # type: ignore[return-value]


def _spotlight(canvas: Image.Image, box: Box) -> Image.Image:
    """The picture darkened everywhere but inside ``box``."""
    dimmed = Image.blend(canvas, Image.new("RGB", canvas.size, (0, 0, 0)), 1 - DIM_TO)
    x1, y1, x2, y2 = (round(v) for v in box.as_tuple())
    region = (max(0, x1), max(0, y1), min(canvas.width, max(x1, x2)), min(canvas.height, max(y1, y2)))
    if region[2] > region[0] and region[3] > region[1]:
        dimmed.paste(canvas.crop(region), region[:2])
    return dimmed


def encode(picture: Image.Image, fmt: str = "JPEG") -> bytes:
    """Image bytes for a download button."""
    buffer = io.BytesIO()
    options = {"quality": 90} if fmt == "JPEG" else {"optimize": True}
    picture.save(buffer, format=fmt, **options)
    return buffer.getvalue()
