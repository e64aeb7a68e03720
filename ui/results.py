"""What the APIs answer, as the page uses it: typed results built from the JSON by :mod:`ui.client`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Box:
    x1: float
    y1: float
    x2: float
    y2: float

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Box:
        return cls(float(data["x1"]), float(data["y1"]), float(data["x2"]), float(data["y2"]))

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)


@dataclass(frozen=True)
class DetectedObject:
    class_name: str
    confidence: float
    box: Box


@dataclass(frozen=True)
class Detection:
    """The answer of ``POST /detect``: objects sorted by confidence."""

    objects: list[DetectedObject]
    model: str
    raw: dict[str, Any] = field(repr=False)

    @property
    def raw_detections(self) -> list[dict[str, Any]]:
        """The ``detections`` list exactly as the API returned it (what the depth API accepts)."""
        return self.raw["detections"]


@dataclass(frozen=True)
class ObjectDepth:
    """One detected object with its depth: ``rank`` 1 is the nearest, ``closeness`` 1 the nearest point."""

    class_name: str
    confidence: float
    box: Box
    depth: float
    closeness: float
    rank: int


@dataclass(frozen=True)
class DepthStats:
    min: float
    max: float
    mean: float
    std: float


@dataclass(frozen=True)
class DepthResult:
    """The answer of ``POST /predict_depth``: pictures as encoded image bytes, objects nearest first."""

    objects: list[ObjectDepth]
    stats: DepthStats
    semantics: str
    model: str
    colored: bytes
    side_by_side: bytes
    picture_type: str  # MIME type of both pictures, e.g. image/jpeg
    raw: dict[str, Any] = field(repr=False)  # without the pictures

    @property
    def is_metric(self) -> bool:
        return self.semantics == "metric_meters"

    @property
    def meaning(self) -> str:
        """What the depth numbers mean, in plain words."""
        if self.is_metric:
            return "Depth values are distances from the camera in meters: smaller is closer."
        return "Depth values are relative (no unit): larger means closer to the camera."
