"""Response and form schemas shared by both APIs (pydantic: validation and OpenAPI from one source)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from apis.core.errors import ErrorCode

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


class ModelInfoResponse(BaseModel):
    """``GET /model-info``: the loaded model and its defaults (fields vary by service)."""

    model_config = ConfigDict(extra="allow")

    success: Literal[True] = True
    service: str
    backend: str
    device: str | None


class ImageInfo(BaseModel):
    """The uploaded image as the service saw it (upright, EXIF orientation applied)."""

    filename: str | None = Field(description="The upload's file name, if it had one.")
    original_size: list[int] = Field(min_length=2, max_length=2, description="[height, width] in pixels.")
    format: str = Field(description="The image format, judged by content (JPEG, PNG, ...).")
