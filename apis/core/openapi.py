"""OpenAPI 3.1 description generated from the routes the app really serves and their pydantic schemas.

Views declare what they take and return with :func:`endpoint`; :func:`build_spec` walks the app's
URL map, so a served route cannot be missing from the document, and the field and response
schemas are the same pydantic models the views validate with and answer through. apispec assembles
the document (paths, components); pydantic writes the JSON Schemas.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apispec import APISpec
from flask import Flask
from pydantic import BaseModel

from apis.core.errors import ErrorCode
from apis.core.images import RAW_BODY_TYPES
from apis.core.schemas import ErrorResponse, FormFields

#: Errors any endpoint taking an upload can answer with.
UPLOAD_ERRORS: dict[int, tuple[ErrorCode, ...]] = {
    400: (
        ErrorCode.MISSING_IMAGE,
        ErrorCode.EMPTY_IMAGE,
        ErrorCode.INVALID_IMAGE,
        ErrorCode.TRUNCATED_IMAGE,
        ErrorCode.UNSUPPORTED_FORMAT,
        ErrorCode.INVALID_PARAMETER,
    ),
    413: (ErrorCode.PAYLOAD_TOO_LARGE, ErrorCode.IMAGE_TOO_LARGE),
    503: (ErrorCode.MODEL_LOADING, ErrorCode.MODEL_FAILED, ErrorCode.OVERLOADED, ErrorCode.QUEUE_TIMEOUT),
}
_METHOD_ERRORS = {405: (ErrorCode.METHOD_NOT_ALLOWED,)}


@dataclass(frozen=True)
class Endpoint:
    """What one view takes and returns, for the OpenAPI description."""

    summary: str
    description: str = ""
    tag: str = "service"
    form: type[FormFields] | None = None
    upload_field: str | None = None
    response: type[BaseModel] | None = None
    response_media_type: str = "application/json"
    errors: dict[int, tuple[ErrorCode, ...]] = field(default_factory=dict)
    #: Statuses that answer with ``response`` too (e.g. /health's 503).
    also_ok: tuple[int, ...] = ()


def endpoint(**details: Any) -> Callable[[Callable], Callable]:
    """Attach an :class:`Endpoint` description to a view function."""

    def attach(view: Callable) -> Callable:
        view.openapi = Endpoint(**details)  # type: ignore[attr-defined]
        return view

    return attach


def _drop_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [X, null]`` -> ``X``: an optional form field is absent, never null."""
    options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    if "anyOf" in schema and len(options) == 1:
        merged = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
        return {**options[0], **merged}
    return {k: v for k, v in schema.items() if k != "default" or v is not None}


class _Components:
    def __init__(self, spec: APISpec) -> None:
        self.spec = spec
        self.names: set[str] = set()

    def ref(self, model: type[BaseModel]) -> dict[str, str]:
        self.add(model.__name__, model.model_json_schema(ref_template="#/components/schemas/{model}"))
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    def add(self, name: str, schema: dict[str, Any]) -> None:
        for def_name, definition in schema.pop("$defs", {}).items():
            self.add(def_name, definition)
        if name not in self.names:
            self.names.add(name)
            self.spec.components.schema(name, schema)


def _operation(
    details: Endpoint, components: _Components, path_params: Iterable[str], field_schemas: dict[str, dict]
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": details.summary, "tags": [details.tag], "responses": {}}
    if details.description:
        operation["description"] = details.description
    parameters = [
        {"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in path_params
    ]

    if details.form is not None or details.upload_field:
        form_schema = (
            details.form.model_json_schema(ref_template="#/components/schemas/{model}")
            if details.form
            else {}
        )
        for def_name, definition in form_schema.pop("$defs", {}).items():
            components.add(def_name, definition)
        properties = {
            name: {**_drop_null(prop), **field_schemas.get(name, {})}
            for name, prop in form_schema.get("properties", {}).items()
        }
        multipart: dict[str, Any] = {"type": "object", "properties": {}}
        encoding: dict[str, Any] = {}
        for name, prop in properties.items():
            if prop.get("contentMediaType") == "application/json":
                # JSON text in a form field: the part (or query value) is JSON of contentSchema.
                inner = dict(prop["contentSchema"])
                for def_name, definition in inner.pop("$defs", {}).items():
                    components.add(def_name, definition)
                inner["description"] = prop.get("description", "")
                multipart["properties"][name] = inner
                # Form only: lists of objects outgrow a request line (gunicorn takes 8 KB).
                encoding[name] = {"contentType": "application/json"}
            else:
                multipart["properties"][name] = prop
                parameters.append(
                    {
                        "name": name,
                        "in": "query",
                        "required": False,
                        "schema": prop,
                        "description": prop.get("description", ""),
                    }
                )
        content: dict[str, Any] = {}
        if details.upload_field:
            multipart["properties"][details.upload_field] = {
                "type": "string",
                "format": "binary",
                "description": "The photo (JPEG, PNG, WebP, BMP, GIF or TIFF; judged by content).",
            }
            multipart["required"] = [details.upload_field]
        content["multipart/form-data"] = {"schema": multipart, **({"encoding": encoding} if encoding else {})}
        if details.upload_field:
            for media_type in RAW_BODY_TYPES:
                content[media_type] = {"schema": {"type": "string", "format": "binary"}}
        operation["requestBody"] = {
            "required": bool(details.upload_field),
            "description": "A multipart form, or the raw image bytes as the body (then the other fields go "
            "in the query string).",
            "content": content,
        }
    if parameters:
        operation["parameters"] = parameters

    ok = {"description": "Success"}
    if details.response is not None:
        ok["content"] = {details.response_media_type: {"schema": components.ref(details.response)}}
    elif details.response_media_type != "application/json":
        ok["content"] = {details.response_media_type: {"schema": {"type": "string"}}}
    operation["responses"]["200"] = ok
    for status in details.also_ok:
        operation["responses"][str(status)] = {**ok, "description": f"Same body, status {status}"}
    error_ref = components.ref(ErrorResponse)
    for status, codes in {**details.errors, **_METHOD_ERRORS}.items():
        operation["responses"][str(status)] = {
            "description": "Error; code is one of: " + ", ".join(c.value for c in codes),
            "content": {"application/json": {"schema": error_ref}},
        }
    return operation


def build_spec(
    app: Flask, *, title: str, version: str, description: str, field_schemas: dict[str, dict] | None = None
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every documented route ``app`` serves.

    ``field_schemas`` refines form fields whose valid values depend on the loaded model.
    """
    spec = APISpec(title=title, version=version, openapi_version="3.1.0", info={"description": description})
    components = _Components(spec)
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        details = getattr(app.view_functions[rule.endpoint], "openapi", None)
        if details is None:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(
                details, components, rule.arguments, field_schemas or {}
            )
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def swagger_assets_dir() -> Path:
    """Swagger UI 5's files, shipped in a Python package so /docs works offline."""
    import flask_openapi3_swagger

    return Path(flask_openapi3_swagger.__file__).parent / "templates" / "swagger"


DOCS_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8"><title>{title}</title>
  <link rel="stylesheet" href="{base}/docs/swagger/css/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{base}/docs/swagger/js/swagger-ui-bundle.js"></script>
<script>
  window.ui = SwaggerUIBundle({{url: "{base}/openapi.json", dom_id: "#swagger-ui", deepLinking: true}});
</script>
</body>
</html>
"""
