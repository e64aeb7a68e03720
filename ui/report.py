"""What the page shows, as plain values: the object table, the chart, the sentence, the JSON.

Built from one :class:`Analysis` (the two API answers, or why each is missing); no Streamlit here.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, replace
from typing import Any

from PIL import Image

from ui.client import ApiCallError, Box, DepthResult, Detection
from ui.drawing import Label, draw_labels

# The annotated picture (shown and downloaded) is at most this long: 12 megapixels stay as they are.
ANNOTATED_MAX_SIDE = 4096


@dataclass(frozen=True)
class Photo:
    """The picture being analysed: its name, bytes as uploaded and the upright decoded image."""

    name: str
    data: bytes
    picture: Image.Image

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()[:16]


@dataclass(frozen=True)
class Analysis:
    """One click on Analyze: each API's answer, or the error that replaced it."""

    photo: Photo
    options: dict[str, Any]
    detection: Detection | None = None
    detection_error: ApiCallError | None = None
    depth: DepthResult | None = None
    depth_error: ApiCallError | None = None

    @property
    def has_ranking(self) -> bool:
        """True when objects come with depth (nearest first); False when only detections are known."""
        return self.depth is not None and bool(self.depth.objects)

    @property
    def object_count(self) -> int:
        if self.detection is not None:
            return len(self.detection.objects)
        return len(self.depth.objects) if self.depth is not None else 0


def _box_text(box: Box) -> str:
    return f"({box.x1:.0f}, {box.y1:.0f}) – ({box.x2:.0f}, {box.y2:.0f})"


def _box_numbers(box: Box) -> dict[str, float]:
    return {"x1": round(box.x1, 1), "y1": round(box.y1, 1), "x2": round(box.x2, 1), "y2": round(box.y2, 1)}


def ranked_objects(analysis: Analysis) -> list[dict[str, Any]]:
    """Every object in the one order all views share: nearest first with depth, else by confidence.

    ``rank``, ``depth`` and ``closeness`` are ``None`` without depth.
    """
    if analysis.has_ranking:
        assert analysis.depth is not None
        return [
            {
                "rank": o.rank,
                "class": o.class_name,
                "confidence": round(o.confidence, 3),
                **_box_numbers(o.box),
                "depth": round(o.depth, 3),
                "closeness": round(o.closeness, 3),
            }
            for o in sorted(analysis.depth.objects, key=lambda o: o.rank)
        ]
    if analysis.detection is None:
        return []
    return [
        {
            "rank": None,
            "class": o.class_name,
            "confidence": round(o.confidence, 3),
            **_box_numbers(o.box),
            "depth": None,
            "closeness": None,
        }
        for o in analysis.detection.objects
    ]


def object_rows(analysis: Analysis) -> list[dict[str, Any]]:
    """Table rows: nearest → farthest when depth is known, else by confidence."""
    rows = []
    for o in ranked_objects(analysis):
        box = Box(o["x1"], o["y1"], o["x2"], o["y2"])
        if analysis.has_ranking:
            keys = ("rank", "class", "confidence", "closeness", "depth")
            rows.append({**{k: o[k] for k in keys}, "box": _box_text(box)})
        else:
            rows.append({"class": o["class"], "confidence": o["confidence"], "box": _box_text(box)})
    return rows


def closeness_by_object(analysis: Analysis, limit: int | None = None) -> dict[str, float]:
    """Chart data: ``"1. person" → closeness`` for the ``limit`` nearest objects; empty without depth."""
    if not analysis.has_ranking:
        return {}
    assert analysis.depth is not None
    return {f"{o.rank}. {o.class_name}": round(o.closeness, 3) for o in analysis.depth.objects[:limit]}


def nearest_sentence(analysis: Analysis) -> str | None:
    """``Nearest: person (87% confidence).``, or ``None`` when there is no ranked object."""
    if not analysis.has_ranking:
        return None
    assert analysis.depth is not None
    nearest = analysis.depth.objects[0]
    return f"Nearest: {nearest.class_name} ({nearest.confidence:.0%} confidence)."


def labels(analysis: Analysis) -> list[Label]:
    """Boxes to draw: ranked ``#1 person 87%`` when depth is known, else ``person 87%``."""
    if analysis.has_ranking:
        assert analysis.depth is not None
        return [
            Label(o.box, f"#{o.rank} {o.class_name} {o.confidence:.0%}", o.class_name, emphasis=o.rank == 1)
            for o in sorted(analysis.depth.objects, key=lambda o: o.rank)
        ]
    if analysis.detection is None:
        return []
    return [
        Label(o.box, f"{o.class_name} {o.confidence:.0%}", o.class_name) for o in analysis.detection.objects
    ]


def annotated_picture(analysis: Analysis, selected: int | None = None) -> Image.Image | None:
    """The photo with the detections drawn (``selected``: index of the highlighted one, in table order).

    ``None`` when detection gave no answer.
    """
    if analysis.detection is None:
        return None
    picture, drawn = analysis.photo.picture, labels(analysis)
    scale = ANNOTATED_MAX_SIDE / max(picture.size)
    if scale < 1:  # a 40-megapixel photo: draw on a smaller copy, boxes scaled to it
        picture = picture.resize(
            (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
        )
        drawn = [replace(label, box=_scaled(label.box, scale)) for label in drawn]
    return draw_labels(picture, drawn, selected=selected)


def _scaled(box: Box, scale: float) -> Box:
    return Box(box.x1 * scale, box.y1 * scale, box.x2 * scale, box.y2 * scale)


def result_json(analysis: Analysis) -> str:
    """The full result as downloadable JSON: both API answers (pictures left out) and any errors."""
    document: dict[str, Any] = {
        "image": {
            "name": analysis.photo.name,
            "sha256_16": analysis.photo.digest,
            "size": [analysis.photo.picture.width, analysis.photo.picture.height],
        },
        "options": analysis.options,
        "objects": ranked_objects(analysis),
        "detection": analysis.detection.raw if analysis.detection else None,
        "depth": analysis.depth.raw if analysis.depth else None,
        "errors": {
            error.service.value: {
                "failure": error.failure.value,
                "status": error.status,
                "message": str(error),
            }
            for error in (analysis.detection_error, analysis.depth_error)
            if error is not None
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


CSV_COLUMNS = ("photo", "rank", "class", "confidence", "x1", "y1", "x2", "y2", "depth", "closeness")


def objects_csv(analyses: list[Analysis]) -> str:
    """One CSV row per object of every photo, in each photo's shared order (blank cells: no depth)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for analysis in analyses:
        for row in ranked_objects(analysis):
            writer.writerow({"photo": analysis.photo.name, **row})
    return buffer.getvalue()


def batch_json(analyses: list[Analysis]) -> str:
    """Every photo's objects (the shared order), size, options and errors, as one JSON document."""
    photos = []
    for analysis in analyses:
        document = json.loads(result_json(analysis))
        photos.append(
            {"photo": analysis.photo.name, **{k: document[k] for k in ("image", "objects", "errors")}}
        )
    options = analyses[0].options if analyses else {}
    return json.dumps({"options": options, "photos": photos}, indent=2, ensure_ascii=False)
