"""Response and form schemas shared by both APIs (pydantic: validation and OpenAPI from one source)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from apis.core.errors import ApiError, ErrorCode
from apis.core.images import DecodedImage

_TRUE_TEXT = {"true": True, "True": True, "1": True, "false": False, "False": False, "0": False}


def _form_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value in _TRUE_TEXT:
        return _TRUE_TEXT[value]
    raise ValueError("expected true or false (also accepted: 1/0, True/False)")


#: A boolean form field: ``true``/``false``, ``1``/``0``, or ``True``/``False`` (what Python clients send).
FormBool = Annotated[
    bool,
    BeforeValidator(_form_bool),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "boolean"},
                {"type": "integer", "enum": [0, 1]},
                {"type": "string", "enum": ["True", "False"]},
            ]
        }
    ),
]


class FormFields(BaseModel):
    """Base of every endpoint's optional form/query fields: unknown fields are ignored, NaN refused."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


class ErrorResponse(BaseModel):
    """Every error the APIs return."""

    success: Literal[False] = False
    error: str = Field(description="What went wrong, for people.")
    code: ErrorCode = Field(description="What went wrong, for programs.")
    field: str | None = Field(default=None, description="The form field at fault (invalid_parameter only).")


class HealthResponse(BaseModel):
    """``GET /health``: 200 with status ok once the model is loaded and warm, else 503."""

    status: Literal["ok", "loading", "failed"]
    service: str
    load_seconds: float | None = Field(default=None, description="How long loading and warm-up took.")
    error: str | None = Field(default=None, description="Why loading failed (status failed).")


DEVICE_DOC = "Where the model runs: cpu, cuda:0 ... (null until loaded)."
PROVIDER_DOC = (
    "What runs it: torch, or the ONNX Runtime execution provider (CUDAExecutionProvider, "
    "CPUExecutionProvider) that actually started."
)
PRECISION_DOC = "fp32, or fp16 (torch on CUDA with HALF=auto or true)."


def runs_on(placement: Any) -> dict[str, str | None]:
    """``device``, ``provider`` and ``precision`` of a backend's placement (all None before loading)."""
    return {
        "device": getattr(placement, "device", None),
        "provider": getattr(placement, "provider", None),
        "precision": getattr(placement, "precision", None),
    }


class ModelInfoResponse(BaseModel):
    """``GET /model-info``: the loaded model and its defaults (fields vary by service)."""

    model_config = ConfigDict(extra="allow")

    success: Literal[True] = True
    service: str
    backend: str
    device: str | None
    provider: str | None = Field(default=None, description=PROVIDER_DOC)
    precision: str | None = Field(default=None, description=PRECISION_DOC)


class ImageInfo(BaseModel):
    """The uploaded image as the service saw it (upright, EXIF orientation applied)."""

    filename: str | None = Field(description="The upload's file name, if it had one.")
    original_size: list[int] = Field(min_length=2, max_length=2, description="[height, width] in pixels.")
    format: str = Field(description="The image format, judged by content (JPEG, PNG, ...).")


def image_info(image: DecodedImage) -> dict[str, Any]:
    """The ``image_info`` block of a response: the upload as the service saw it."""
    return {"filename": image.filename, "original_size": image.original_size, "format": image.source_format}


#: The most objects one detection answer holds (``max_det``), so the most a depth request must accept.
MAX_OBJECTS_PER_IMAGE = 1000
#: Nesting a JSON form field may have; real clients send 3 levels (list, object, box).
MAX_JSON_DEPTH = 32


def parse_json_text(text: str, *, field: str, max_chars: int, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON value of a text field, checked for size (413) and nesting (400) before it is used.

    Raises :class:`ValueError` (a 400 naming the field, through the form model) for malformed or
    too deeply nested JSON, and :class:`ApiError` 413 for text over ``max_chars``.
    """
    if len(text) > max_chars:
        raise ApiError(
            f"{field}: at most {max_chars} characters, got {len(text)}",
            code=ErrorCode.PAYLOAD_TOO_LARGE,
            status=413,
            details={"field": field},
        )
    too_deep = f"is nested deeper than the limit of {max_depth} levels"
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError(too_deep) from None
    except ValueError as exc:
        raise ValueError(f"is not valid JSON ({exc.args[0] if exc.args else exc})") from None
    if _depth(value) > max_depth:
        raise ValueError(too_deep)
    return value


def _depth(value: Any) -> int:
    """Levels of lists and objects in a parsed JSON value (iterative: no recursion limit to hit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest
