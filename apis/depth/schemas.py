"""``POST /predict_depth``: its fields and its response, as pydantic models (validation and OpenAPI).

``midpoints``, ``detections`` and ``image_info`` are JSON text inside a form field, parsed once here
(size and nesting bounded; :mod:`apis.depth.objects` gives precise messages) and described for OpenAPI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    TypeAdapter,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from apis.core.errors import invalid_parameter
from apis.core.schemas import (
    DEVICE_DOC,
    MAX_OBJECTS_PER_IMAGE,
    PRECISION_DOC,
    PROVIDER_DOC,
    FormBool,
    FormFields,
    ImageInfo,
    parse_json_text,
)
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


#: Longest ``midpoints`` / ``detections`` text: 1,000 detections as ``POST /detect`` returns them,
#: pretty-printed, take about 250 kB.
MAX_OBJECTS_TEXT = 512 * 1024
MAX_IMAGE_INFO_TEXT = 16 * 1024


def _objects_field(parse: Callable[..., list[objects.ObjectQuery]], field: str) -> PlainValidator:
    """Parse a JSON text field once into :class:`~apis.depth.objects.ObjectQuery` values."""

    def validate(value: Any, info: ValidationInfo) -> list[objects.ObjectQuery]:
        if not isinstance(value, str):
            raise ValueError("expected JSON text")
        max_objects = (info.context or {}).get("max_objects", MAX_OBJECTS_PER_IMAGE)
        try:
            return parse(
                parse_json_text(value, field=field, max_chars=MAX_OBJECTS_TEXT), max_objects=max_objects
            )
        except objects.ObjectInputError as exc:
            raise ValueError(str(exc)) from None

    return PlainValidator(validate)


def _image_info_field(value: Any) -> dict[str, Any]:
    if not isinstance(value, str):
        raise ValueError("expected JSON text")
    parsed = parse_json_text(value, field="image_info", max_chars=MAX_IMAGE_INFO_TEXT)
    if not isinstance(parsed, dict):
        raise ValueError("expected a JSON object")
    return parsed


def _json_text_schema(annotation: Any, description: str, **limits: int | None) -> WithJsonSchema:
    return WithJsonSchema(
        {"type": "string", "description": description, **json_content(annotation, **limits)}
    )


def _objects_text(parse: Callable[..., list[objects.ObjectQuery]], field: str, item: type, description: str):
    """A form field of JSON text, kept parsed as the objects to measure (documented as a list of ``item``)."""
    schema = _json_text_schema(list[item], description, max_items=MAX_OBJECTS_PER_IMAGE)
    return Annotated[list[objects.ObjectQuery], _objects_field(parse, field), schema]


Midpoints = _objects_text(
    objects.parse_midpoints,
    "midpoints",
    MidpointIn,
    "JSON list of points {x, y, class_name, confidence, bbox} (the original contract).",
)
Detections = _objects_text(
    objects.parse_detections,
    "detections",
    DetectionIn,
    "JSON: the detections list exactly as POST /detect returns it (with midpoints: both are measured).",
)
ClientImageInfo = Annotated[
    dict[str, Any],
    PlainValidator(_image_info_field),
    _json_text_schema(dict[str, Any], "JSON object echoed back in image_info."),
]


class DepthForm(FormFields):
    """Optional fields of ``POST /predict_depth`` (multipart form fields, or query parameters).

    ``midpoints``, ``detections`` and ``image_info`` arrive as JSON text and are kept parsed:
    the service reads typed objects, never the text.
    """

    midpoints: Midpoints | None = None
    detections: Detections | None = None
    detection_count: int | None = Field(
        default=None, ge=0, le=1_000_000, description="Echoed in detection_info; default: objects sent."
    )
    image_info: ClientImageInfo | None = None
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
        """The points to measure: the midpoints, then the detections, at most ``max_objects`` together."""
        queries = [*(self.midpoints or []), *(self.detections or [])]
        if len(queries) > max_objects:
            raise invalid_parameter(
                "detections", f"at most {max_objects} objects per request, got {len(queries)}"
            )
        return queries


# ---------------------------------------------------------------- response


class DepthModelInfo(BaseModel):
    model: str
    device: str | None = Field(description=DEVICE_DOC)
    provider: str | None = Field(description=PROVIDER_DOC)
    precision: str | None = Field(description=PRECISION_DOC)
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
