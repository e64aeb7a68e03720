"""``POST /detect``: its fields and its response, as pydantic models (validation and OpenAPI)."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from apis.core.schemas import DEVICE_DOC, PRECISION_DOC, PROVIDER_DOC, FormBool, FormFields, ImageInfo


class DetectForm(FormFields):
    """Optional fields of ``POST /detect`` (multipart form fields, or query parameters)."""

    include_image: FormBool = Field(
        default=False, description="Also return annotated_image (boxes drawn, JPEG)."
    )
    conf: float | None = Field(
        default=None, ge=0, le=1, description="Confidence threshold; default DETECTION_CONF."
    )
    iou: float | None = Field(
        default=None, ge=0, le=1, description="NMS IoU threshold; default DETECTION_IOU."
    )
    max_det: int | None = Field(
        default=None, ge=1, le=1000, description="Most detections; default and cap DETECTION_MAX_DET."
    )
    classes: str | None = Field(
        default=None,
        max_length=600,
        description="Only these classes: names or ids, "
        'comma-separated (person,car or 0,2) or a JSON list (["person", 2]).',
    )
    imgsz: int | None = Field(
        default=None, ge=32, le=2048, description="Inference size in pixels; default DETECTION_IMGSZ."
    )

    @field_validator("classes")
    @classmethod
    def _known_classes(cls, value: str | None, info: ValidationInfo) -> str | None:
        """With ``context={"resolve_classes": ...}`` every listed class must exist in the model."""
        resolve = (info.context or {}).get("resolve_classes")
        if value is not None and resolve is not None:
            try:
                resolve(parse_class_list(value))
            except KeyError as unknown:
                raise ValueError(f"unknown class {unknown.args[0]!r}") from None
        return value


def parse_class_list(raw: str) -> list[str | int]:
    """``person,car`` / ``0,2`` / ``["person", 2]`` -> the listed entries (ValueError if malformed)."""
    if raw.lstrip().startswith("["):
        try:
            wanted = json.loads(raw)
        except ValueError:
            raise ValueError("is not a valid JSON list") from None
    else:
        wanted = raw.split(",")
    if not isinstance(wanted, list) or not wanted or not all(isinstance(w, str | int) for w in wanted):
        raise ValueError("expected class names or ids, comma-separated or a JSON list")
    return wanted


class BoundingBox(BaseModel):
    """A box in pixels of the upright original image."""

    x1: float
    y1: float
    x2: float
    y2: float


class DetectionOut(BaseModel):
    """One detected object."""

    class_id: int
    class_name: str
    confidence: float = Field(ge=0, le=1)
    bbox: BoundingBox


class ModelSummary(BaseModel):
    """Which model answered."""

    weights: str
    task: Literal["detect"] = "detect"
    backend: str
    device: str | None = Field(description=DEVICE_DOC)
    provider: str | None = Field(description=PROVIDER_DOC)
    precision: str | None = Field(description=PRECISION_DOC)


class DetectResponse(BaseModel):
    """The answer of ``POST /detect`` (the original platform's contract, plus model and timing)."""

    success: Literal[True] = True
    detections: list[DetectionOut] = Field(description="Sorted by confidence, highest first.")
    detection_count: int
    image_info: ImageInfo
    model: ModelSummary
    timing_ms: dict[str, float] = Field(
        description="Where the time went: decode, queue, preprocess, inference, postprocess, model_call, "
        "encode (only with include_image), total."
    )
    annotated_image: str | None = Field(
        default=None,
        description="data:image/jpeg;base64,... of the photo with boxes drawn; only with include_image.",
    )
