"""Reading an image upload and typed form/query fields out of a Flask request."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from flask import request
from pydantic import ValidationError

from apis.core.errors import ApiError, invalid_parameter
from apis.core.images import RAW_BODY_TYPES, DecodedImage, decode_image
from apis.core.schemas import FormFields
from apis.core.settings import CoreSettings

FormT = TypeVar("FormT", bound=FormFields)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def read_image(settings: CoreSettings, field: str = "image") -> DecodedImage:
    """The uploaded image: multipart field ``field``, or a raw ``image/*`` request body."""
    limits = {"max_bytes": settings.max_upload_bytes, "max_pixels": settings.max_pixels}
    if request.mimetype in RAW_BODY_TYPES or request.mimetype == "application/octet-stream":
        return decode_image(request.get_data(cache=False), filename=request.args.get("filename"), **limits)
    upload = request.files.get(field)
    if upload is None:
        raise ApiError(
            f"no image: send a multipart form with a file field '{field}', "
            f"or a raw body with Content-Type one of {', '.join(RAW_BODY_TYPES)}",
            code="missing_image",
        )
    return decode_image(upload.read(), filename=upload.filename or None, **limits)


def read_fields(model: type[FormT], context: dict[str, Any] | None = None) -> FormT:
    """The endpoint's optional fields from the form and the query string, validated by ``model``.

    A value in either place must be valid (the form's wins when both have one); a field sent empty
    is invalid, not absent; the first invalid field becomes a 400 naming it. ``context`` reaches
    the model's validators (e.g. the loaded model's class names).
    """
    merged: dict[str, str] = {}
    for source in (request.args, request.form):
        present = {name: source[name] for name in model.model_fields if name in source}
        _validate(model, present, context)
        merged.update(present)
    return _validate(model, merged, context)


def _validate(model: type[FormT], values: dict[str, str], context: dict[str, Any] | None) -> FormT:
    try:
        return model.model_validate(values, context=context)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "form"
        message = first["msg"].removeprefix("Value error, ")
        if name in values:
            shown = values[name] if len(values[name]) <= 80 else values[name][:77] + "..."
            message = f"{message} (got {shown!r})"
        raise invalid_parameter(name, message) from None


def _raw(name: str) -> str | None:
    value = request.values.get(name)
    return None if value is None or value.strip() == "" else value.strip()


def get_bool(name: str, default: bool) -> bool:
    """A boolean field: true/false, 1/0, yes/no, on/off (any case); absent means ``default``."""
    value = request.values.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise invalid_parameter(name, f"expected true or false, got {value!r}")


def get_float(name: str, default: float, *, low: float, high: float) -> float:
    """A number within ``[low, high]``; absent means ``default``."""
    value = _raw(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise invalid_parameter(name, f"expected a number, got {value!r}") from None
    if not low <= number <= high:  # also rejects NaN
        raise invalid_parameter(name, f"must be between {low:g} and {high:g}, got {value}")
    return number


def get_int(name: str, default: int, *, low: int, high: int) -> int:
    """A whole number within ``[low, high]``; absent means ``default``."""
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise invalid_parameter(name, f"expected a whole number, got {value!r}") from None
    if not low <= number <= high:
        raise invalid_parameter(name, f"must be between {low} and {high}, got {number}")
    return number


def get_json(name: str) -> Any | None:
    """A field holding JSON text; absent means ``None``, malformed JSON is a 400 naming the field."""
    value = _raw(name)
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError as exc:
        raise invalid_parameter(name, f"is not valid JSON ({exc.args[0] if exc.args else exc})") from None


def get_str(name: str) -> str | None:
    """A text field, stripped; absent or blank means ``None``."""
    return _raw(name)
