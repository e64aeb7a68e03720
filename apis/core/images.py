"""Turn untrusted upload bytes into a clean RGB picture, or a precise client error.

The format is decided by content (Pillow's sniffing), never by file name. Limits on bytes and
pixels are checked before any pixel is decoded, so a decompression bomb costs nothing.
"""

from __future__ import annotations

import base64
import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from apis.core.errors import ApiError

# Pillow's own opener, kept before ultralytics replaces Image.open with one that tries to pip-install
# a HEIF plugin on every unidentified upload (apis.detection imports this module before ultralytics).
_pil_open = Image.open

SUPPORTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF", "MPO"})
RAW_BODY_TYPES = ("image/jpeg", "image/png", "image/webp", "image/bmp", "image/gif", "image/tiff")


@dataclass(frozen=True)
class DecodedImage:
    """An upload after normalisation: upright, RGB, 8-bit, first frame only."""

    image: Image.Image
    source_format: str
    filename: str | None

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height

    @property
    def original_size(self) -> list[int]:
        """``[height, width]``, as the original platform reported it."""
        return [self.image.height, self.image.width]


def decode_image(
    data: bytes, *, max_bytes: int, max_pixels: int, filename: str | None = None
) -> DecodedImage:
    """Decode ``data`` into an upright RGB image, raising :class:`ApiError` for anything unusable."""
    if not data:
        raise ApiError("the uploaded image is empty", code="empty_image")
    if len(data) > max_bytes:
        raise ApiError(
            f"the image is {len(data)} bytes; the limit is {max_bytes}", code="payload_too_large", status=413
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = _pil_open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ApiError("the upload is not an image Pillow can read", code="invalid_image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(None, max_pixels) from None
    except Exception as exc:  # Pillow raises many types for malformed headers
        raise ApiError(f"the image header is malformed ({exc})", code="invalid_image") from None

    if picture.format not in SUPPORTED_FORMATS:
        supported = ", ".join(sorted(SUPPORTED_FORMATS))
        raise ApiError(
            f"image format {picture.format} is not supported; use one of {supported}",
            code="unsupported_format",
        )
    width, height = picture.size
    if width <= 0 or height <= 0:
        raise ApiError("the image has no pixels", code="invalid_image")
    if width * height > max_pixels:
        raise _too_many_pixels((width, height), max_pixels)

    try:
        picture.seek(0)  # animated GIF/WebP: the first frame
        picture.load()
        upright = ImageOps.exif_transpose(picture)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ApiError(f"the image data is truncated or corrupt ({exc})", code="truncated_image") from None
    return DecodedImage(image=to_rgb(upright), source_format=picture.format, filename=filename)


def _too_many_pixels(size: tuple[int, int] | None, max_pixels: int) -> ApiError:
    shown = f"{size[0]}x{size[1]} pixels" if size else "too many pixels"
    return ApiError(f"the image has {shown}; the limit is {max_pixels}", code="image_too_large", status=413)


def to_rgb(picture: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB: 16-bit and float are rescaled, alpha goes onto white."""
    mode = picture.mode
    if mode == "RGB":
        return picture
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(picture, dtype=np.float32)
        if mode == "F":
            low, high = float(values.min()), float(values.max())
            scaled = (values - low) / (high - low) * 255.0 if high > low else np.zeros_like(values)
        else:
            scaled = values / 257.0 if values.max() > 255 else values
        gray = Image.fromarray(np.clip(scaled, 0, 255).astype(np.uint8))
        return gray.convert("RGB")
    if mode == "P" and "transparency" in picture.info:
        picture = picture.convert("RGBA")
    if picture.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = picture.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return picture.convert("RGB")


def encode_data_url(picture: Image.Image, *, fmt: str = "JPEG", quality: int = 90) -> str:
    """Encode a picture once as a ``data:`` URL (JPEG for photos, PNG for exact maps)."""
    buffer = io.BytesIO()
    if fmt == "JPEG":
        picture.save(buffer, format="JPEG", quality=quality)
        mime = "image/jpeg"
    else:
        picture.save(buffer, format=fmt)
        mime = f"image/{fmt.lower()}"
    return f"data:{mime};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"
