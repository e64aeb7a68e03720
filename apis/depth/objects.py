"""Per-object depth: read the client's points or boxes, sample the depth map, rank by nearness.

Pure Python and numpy: no HTTP, no model. Input errors are :class:`ObjectInputError` with a
message that names the item and the key; the service turns them into 400s naming the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

BOX_KEYS = ("x1", "y1", "x2", "y2")


class ObjectInputError(ValueError):
    """A midpoint or detection the service cannot use; the message says which and why."""


@dataclass(frozen=True)
class Box:
    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2


@dataclass(frozen=True)
class ObjectQuery:
    """One thing to measure: a point, optionally the box around it, and what to echo back."""

    x: float
    y: float
    box: Box | None = None
    class_name: str | None = None
    confidence: float | None = None
    class_id: int | None = None
    box_as_list: bool = False  # echo the box in the shape the client sent it


# ---------------------------------------------------------------- reading client input


def _number(item: dict[str, Any], key: str, where: str, *, required: bool = True) -> float | None:
    if key not in item or item[key] is None:
        if required:
            raise ObjectInputError(f"{where}: '{key}' is missing")
        return None
    value = item[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ObjectInputError(f"{where}: '{key}' must be a finite number, got {value!r}")
    return float(value)


def _box(raw: Any, where: str) -> tuple[Box, bool]:
    """A box from ``{"x1", "y1", "x2", "y2"}`` or ``[x1, y1, x2, y2]``; corners in any order."""
    if isinstance(raw, list | tuple):
        if len(raw) != 4:
            raise ObjectInputError(
                f"{where}: 'bbox' as a list needs 4 numbers [x1, y1, x2, y2], got {len(raw)}"
            )
        raw, as_list = dict(zip(BOX_KEYS, raw, strict=True)), True
    elif isinstance(raw, dict):
        as_list = False
    else:
        raise ObjectInputError(
            f"{where}: 'bbox' must be an object with x1, y1, x2, y2 or a list of 4 numbers"
        )
    x1, y1, x2, y2 = (_number(raw, key, f"{where}.bbox") for key in BOX_KEYS)
    return Box(min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)), as_list


def _common(item: dict[str, Any], where: str) -> dict[str, Any]:
    class_name = item.get("class_name")
    if class_name is not None and not isinstance(class_name, str | int):
        raise ObjectInputError(f"{where}: 'class_name' must be text, got {class_name!r}")
    class_id = item.get("class_id")
    if class_id is not None and (isinstance(class_id, bool) or not isinstance(class_id, int)):
        raise ObjectInputError(f"{where}: 'class_id' must be a whole number, got {class_id!r}")
    return {
        "class_name": None if class_name is None else str(class_name),
        "confidence": _number(item, "confidence", where, required=False),
        "class_id": class_id,
    }


def _items(raw: Any, kind: str, max_objects: int) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise ObjectInputError(f"expected a JSON list of {kind}, got {type(raw).__name__}")
    if len(raw) > max_objects:
        raise ObjectInputError(f"at most {max_objects} {kind} per request, got {len(raw)}")
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ObjectInputError(f"item {index}: expected an object, got {type(item).__name__}")
    return raw


def parse_midpoints(raw: Any, *, max_objects: int) -> list[ObjectQuery]:
    """The original contract: ``[{x, y, class_name, confidence, bbox}]``; x and y are required."""
    queries = []
    for index, item in enumerate(_items(raw, "midpoints", max_objects)):
        where = f"item {index}"
        x, y = _number(item, "x", where), _number(item, "y", where)
        box, as_list = _box(item["bbox"], where) if item.get("bbox") is not None else (None, False)
        queries.append(ObjectQuery(x=x, y=y, box=box, box_as_list=as_list, **_common(item, where)))
    return queries


def parse_detections(raw: Any, *, max_objects: int) -> list[ObjectQuery]:
    """The ``detections`` list of ``POST /detect``: the midpoint is the centre of each ``bbox``."""
    queries = []
    for index, item in enumerate(_items(raw, "detections", max_objects)):
        where = f"item {index}"
        if item.get("bbox") is None:
            raise ObjectInputError(f"{where}: 'bbox' is missing")
        box, as_list = _box(item["bbox"], where)
        x, y = box.centre
        queries.append(ObjectQuery(x=x, y=y, box=box, box_as_list=as_list, **_common(item, where)))
    return queries


# ---------------------------------------------------------------- measuring


def _clamp(value: float, high: float) -> float:
    return min(max(value, 0.0), high)


def _pixel(coordinate: float, size: int) -> int:
    """The pixel a continuous coordinate in ``[0, size]`` falls in."""
    return min(math.floor(coordinate), size - 1)


def core_window(box: Box, fraction: float, width: int, height: int) -> tuple[slice, slice] | None:
    """Rows and columns of the central ``fraction`` of ``box`` (>= 1 pixel); ``None`` if it has no area."""
    if box.width <= 0 or box.height <= 0:
        return None
    cx, cy = box.centre
    half_w, half_h = box.width * fraction / 2, box.height * fraction / 2
    left = _pixel(cx - half_w, width)
    top = _pixel(cy - half_h, height)
    right = max(left + 1, min(math.ceil(cx + half_w), width))
    bottom = max(top + 1, min(math.ceil(cy + half_h), height))
    return slice(top, bottom), slice(left, right)


def closeness(values: np.ndarray | float, low: float, high: float, *, larger_is_closer: bool) -> np.ndarray:
    """0 at the farthest depth in the image, 1 at the nearest (0.5 everywhere in a flat map)."""
    values = np.asarray(values, dtype=np.float64)
    span = high - low
    if span <= 0:
        return np.full_like(values, 0.5)
    scaled = (values - low) / span
    return np.clip(scaled if larger_is_closer else 1.0 - scaled, 0.0, 1.0)


def depth_stats(depth: np.ndarray) -> dict[str, float]:
    return {
        "min_depth": float(depth.min()),
        "max_depth": float(depth.max()),
        "mean_depth": float(depth.mean()),
        "std_depth": float(depth.std()),
    }


def _round(value: float, digits: int = 4) -> float:
    return round(float(value), digits)


def measure_objects(
    depth: np.ndarray, queries: list[ObjectQuery], *, larger_is_closer: bool, box_core: float = 0.5
) -> list[dict[str, Any]]:
    """One result per query, in the order given, with ``rank`` 1 for the nearest object.

    ``depth_value`` is the depth at the (clamped) midpoint; ``depth_median`` the median over the
    central ``box_core`` share of the (clamped) box, or the midpoint's depth when there is no box
    or it has no area inside the image. Points and boxes reaching outside the image are moved to
    its edge and carry ``clamped: true``.
    """
    height, width = depth.shape
    low, high = float(depth.min()), float(depth.max())
    results: list[dict[str, Any]] = []
    medians: list[float] = []
    for query in queries:
        x, y = _clamp(query.x, width), _clamp(query.y, height)
        clamped = (x, y) != (query.x, query.y)
        point_depth = float(depth[_pixel(y, height), _pixel(x, width)])
        median = point_depth
        entry: dict[str, Any] = {"x": _round(x, 2), "y": _round(y, 2), "depth_value": _round(point_depth)}
        if query.class_id is not None:
            entry["class_id"] = query.class_id
        entry["class_name"] = query.class_name
        entry["confidence"] = query.confidence
        entry["bbox"] = None
        if query.box is not None:
            b = query.box
            box = Box(_clamp(b.x1, width), _clamp(b.y1, height), _clamp(b.x2, width), _clamp(b.y2, height))
            clamped = clamped or box != b
            window = core_window(box, box_core, width, height)
            if window is not None:
                median = float(np.median(depth[window]))
            coords = [_round(getattr(box, key), 2) for key in BOX_KEYS]
            entry["bbox"] = coords if query.box_as_list else dict(zip(BOX_KEYS, coords, strict=True))
        entry["depth_median"] = _round(median)
        entry["closeness"] = _round(closeness(median, low, high, larger_is_closer=larger_is_closer))
        if clamped:
            entry["clamped"] = True
        results.append(entry)
        medians.append(median)

    # Nearest first; ties keep the order the client sent.
    order = sorted(range(len(medians)), key=lambda i: -medians[i] if larger_is_closer else medians[i])
    for rank, index in enumerate(order, start=1):
        results[index]["rank"] = rank
    return results
