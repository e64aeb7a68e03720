"""``POST /predict_depth``: its fields and its response, as pydantic models (validation and OpenAPI).

``midpoints``, ``detections`` and ``image_info`` are JSON text inside a form field; their content is
checked by :mod:`apis.depth.objects` (which gives precise messages) and described here for OpenAPI.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationInfo, field_validator

from apis.core.errors import invalid_parameter
from apis.core.schemas import FormBool, FormFields, ImageInfo
from apis.depth import objects


class BoxIn(BaseModel):
    """A box in pixels; corners in any order."""

    x1: float
    y1: float
    x2: float
    y2: float


BoxOrList = BoxIn | list[float]


class MidpointIn(BaseModel):
    """A point to measure (the original contract); ``bbox`` adds the median over its centre."""

    model_config = ConfigDict(extra="allow")

    x: float
    y: float
    class_name: str | int | None = None
    confidence: float | None = None
    class_id: int | None = None
    bbox: BoxIn | list[float] | None = Field(default=None, description="{x1,y1,x2,y2} or [x1, y1, x2, y2]")


class DetectionIn(BaseModel):
    """One entry of the ``detections`` list of ``POST /detect``; its midpoint is the box centre."""

    model_config = ConfigDict(extra="allow")

    bbox: BoxIn | list[float] = Field(description="{x1,y1,x2,y2} or [x1, y1, x2, y2]")
    class_name: str | int | None = None
    confidence: float | None = None
    class_id: int | None = None


def json_content(annotation: Any, *, max_items: int | None = None) -> dict[str, Any]:
    """Mark a text field as JSON of ``annotation`` (OpenAPI: a JSON-encoded form part / query value)."""
    schema = _inline_refs(TypeAdapter(annotation).json_schema())
    if max_items is not None:
        schema["maxItems"] = max_items
    for box in _walk_lists(schema):
        box.update({"minItems": 4, "maxItems": 4})
    return {"contentMediaType": "application/json", "contentSchema": schema}


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with its ``$defs`` substituted in place (pydantic resolves no refs inside extras)."""
    definitions = schema.pop("$defs", {})

    def substitute(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return substitute(definitions[node["$ref"].rsplit("/", 1)[-1]])
            return {key: substitute(value) for key, value in node.items()}
        if isinstance(node, list):
            return [substitute(value) for value in node]
        return node

    return substitute(schema)


def _walk_lists(schema: Any):
    """The ``[x1, y1, x2, y2]`` box variants (arrays of numbers) anywhere in ``schema``."""
    if isinstance(schema, dict):
        if schema.get("type") == "array" and schema.get("items") == {"type": "number"}:
            yield schema
        for value in schema.values():
            yield from _walk_lists(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _walk_lists(value)


MAX_OBJECTS_DOCUMENTED = 500


class DepthForm(FormFields):
    """Optional fields of ``POST /predict_depth`` (multipart form fields, or query parameters)."""

    midpoints: str | None = Field(
        default=None,
        description="JSON list of points {x, y, class_name, confidence, bbox} (the original contract).",
        json_schema_extra=json_content(list[MidpointIn], max_items=MAX_OBJECTS_DOCUMENTED),
    )
    detections: str | None = Field(
        default=None,
        description="JSON: the detections list exactly as POST /detect returns it (instead of midpoints).",
        json_schema_extra=json_content(list[DetectionIn], max_items=MAX_OBJECTS_DOCUMENTED),
    )
    detection_count: int | None = Field(
        default=None, ge=0, le=1_000_000, description="Echoed in detection_info; default: objects sent."
    )
    image_info: str | None = Field(
        default=None,
        description="JSON object echoed back in image_info.",
        json_schema_extra=json_content(dict[str, Any]),
    )
    include_images: FormBool = Field(
        default=True, description="Return images (coloured depth, side by side)."
    )
    include_depth_map: FormBool = Field(
        default=False,
        description="Return depth_map: the full map as a 16-bit PNG and how to undo its scaling.",
    )
    grayscale: FormBool = Field(default=False, description="Grey depth picture (white = nearest).")
    pred_only: FormBool = Field(default=False, description="depth_visualization without the photo beside it.")
    colormap: str | None = Field(
        default=None,
        max_length=64,
        description="A matplotlib colormap name; default DEPTH_COLORMAP (Spectral_r).",
    )

    @field_validator("midpoints", "detections")
    @classmethod
    def _objects(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            parse = objects.parse_midpoints if info.field_name == "midpoints" else objects.parse_detections
            max_objects = (info.context or {}).get("max_objects", MAX_OBJECTS_DOCUMENTED)
            try:
                parse(_json(value), max_objects=max_objects)
            except objects.ObjectInputError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("image_info")
    @classmethod
    def _image_info(cls, value: str | None) -> str | None:
        if value is not None and not isinstance(_json(value), dict):
            raise ValueError("expected a JSON object")
        return value

    @field_validator("colormap")
    @classmethod
    def _colormap(cls, value: str | None) -> str | None:
        from apis.depth import render

        if value is not None:
            try:
                render.check_colormap(value)
            except KeyError as exc:
                raise ValueError(exc.args[0]) from None
        return value

    def object_queries(self, max_objects: int) -> list[objects.ObjectQuery]:
        """The points to measure (already validated): the midpoints, then the detections, if sent."""
        queries = []
        if self.midpoints is not None:
            queries += objects.parse_midpoints(_json(self.midpoints), max_objects=max_objects)
        if self.detections is not None:
            queries += objects.parse_detections(_json(self.detections), max_objects=max_objects)
        if len(queries) > max_objects:
            raise invalid_parameter(
                "detections", f"at most {max_objects} objects per request, got {len(queries)}"
            )
        return queries

    def client_image_info(self) -> dict[str, Any]:
        return _json(self.image_info) if self.image_info is not None else {}


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValueError(f"is not valid JSON ({exc.args[0] if exc.args else exc})") from None


# ---------------------------------------------------------------- response


class DepthModelInfo(BaseModel):
    model: str
    device: str | None
    input_size: int
    backend: str


class DetectionInfo(BaseModel):
    detection_count: int
    midpoints_processed: int


class DepthStats(BaseModel):
    min_depth: float
    max_depth: float
    mean_depth: float
    std_depth: float


class ObjectDepth(BaseModel):
    """One measured object, in the order sent; ``rank`` 1 is the nearest."""

    x: float
    y: float
    depth_value: float = Field(description="Depth at the (clamped) midpoint.")
    class_id: int | None = None
    class_name: str | None
    confidence: float | None
    bbox: BoxIn | list[float] | None
    depth_median: float = Field(description="Median depth over the central part of the box (or depth_value).")
    closeness: float = Field(ge=0, le=1, description="0 = farthest point in the image, 1 = nearest.")
    clamped: bool | None = Field(
        default=None, description="true when the point or box reached outside the image."
    )
    rank: int = Field(ge=1, description="1 = nearest object.")


class DepthImages(BaseModel):
    depth_visualization: str = Field(
        description="data:image/jpeg;base64: photo and coloured depth side by side."
    )
    depth_colored: str = Field(description="data:image/jpeg;base64: the coloured depth alone.")


class DepthMap(BaseModel):
    """The full map as a 16-bit PNG: ``depth = offset + level * scale``."""

    png16: str
    offset: float
    scale: float
    width: int
    height: int
    semantics: Literal["relative_inverse", "metric_meters"]


class DepthImageInfo(ImageInfo):
    model_config = ConfigDict(extra="allow")


class PredictDepthResponse(BaseModel):
    """The answer of ``POST /predict_depth`` (the original contract plus per-object ranking)."""

    success: Literal[True] = True
    timestamp: str
    model_info: DepthModelInfo
    depth_semantics: Literal["relative_inverse", "metric_meters"] = Field(
        description="relative_inverse: no unit, larger = closer. metric_meters: meters from the camera."
    )
    image_info: DepthImageInfo
    detection_info: DetectionInfo
    depth_stats: DepthStats
    depth_at_objects: list[ObjectDepth]
    images: DepthImages | None = Field(default=None, description="Only with include_images (default true).")
    depth_map: DepthMap | None = Field(default=None, description="Only with include_depth_map.")
    timing_ms: dict[str, float]
