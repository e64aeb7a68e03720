"""Reading an image upload and the validated form/query fields out of a Flask request."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import request
from pydantic import ValidationError

from apis.core.errors import ApiError, invalid_parameter
from apis.core.images import RAW_BODY_TYPES, DecodedImage, decode_image
from apis.core.schemas import FormFields
from apis.core.settings import CoreSettings

FormT = TypeVar("FormT", bound=FormFields)


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
    checked: list[FormT] = []
    for source in (request.args, request.form, _text_file_parts(model)):
        present = {name: source[name] for name in model.model_fields if name in source}
        if present:
            checked.append(_validate(model, present, context))
            merged.update(present)
    # One source (the usual case) was validated above already; only a mix needs another pass.
    return checked[0] if len(checked) == 1 else _validate(model, merged, context)


def _text_file_parts(model: type[FormFields]) -> dict[str, str]:
    """Fields sent as file parts (``curl -F detections=@detections.json``), read as UTF-8 text.

    Werkzeug files a part with a file name apart from the form; without this such a field would be
    silently ignored. The image is never a form field, so it is never read here.
    """
    texts = {}
    for name in model.model_fields:
        part = request.files.get(name)
        if part is not None and name not in request.form:
            try:
                texts[name] = part.read().decode("utf-8")
            except UnicodeDecodeError:
                raise invalid_parameter(name, "a file sent for this field must be UTF-8 text") from None
    return texts


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
