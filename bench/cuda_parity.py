"""Whether two runs of a model agree: fp16 against fp32 on CUDA, and CUDA against the CPU.

HALF=auto runs torch in fp16 on CUDA; the CUDA suite (:mod:`bench.cuda`) keeps that default honest by
running the same photos both ways and judging the answers with these functions (numpy only, so the
criteria themselves are tested on the CPU):

- **Detection**: every box of the reference has a box of the same class in the other answer with
  IoU ≥ 0.9 and a confidence within 0.02, and the other way round (a box that crosses the confidence
  threshold in one run only counts as unmatched); parity needs ≥ 95 % matched both ways.
- **Depth**: the mean absolute difference ≤ 0.5 % and the largest ≤ 5 % of the reference map's range.
"""

from __future__ import annotations

import numpy as np

BOX_IOU = 0.9
CONFIDENCE_DELTA = 0.02
MATCHED_SHARE = 0.95
DEPTH_MEAN_SHARE = 0.005
DEPTH_MAX_SHARE = 0.05


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two ``(x1, y1, x2, y2)`` boxes."""
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _matched(reference: list[dict], other: list[dict]) -> int:
    """Boxes of ``reference`` with a partner in ``other`` (same class, IoU, confidence), each used once."""
    free = list(other)
    found = 0
    for box in reference:
        for candidate in free:
            if (
                candidate["class_id"] == box["class_id"]
                and abs(candidate["confidence"] - box["confidence"]) <= CONFIDENCE_DELTA
                and iou(_xyxy(candidate), _xyxy(box)) >= BOX_IOU
            ):
                free.remove(candidate)
                found += 1
                break
    return found


def _xyxy(detection: dict) -> tuple[float, float, float, float]:
    box = detection["bbox"]
    return box["x1"], box["y1"], box["x2"], box["y2"]


def detection_parity(reference: list[dict], other: list[dict]) -> dict:
    """How far two detection answers (``Detection.to_dict()`` lists) agree, and whether that is parity."""
    forward, backward = _matched(reference, other), _matched(other, reference)
    share = min(forward / len(reference) if reference else 1.0, backward / len(other) if other else 1.0)
    return {
        "boxes": [len(reference), len(other)],
        "matched_share": round(share, 4),
        "parity": share >= MATCHED_SHARE,
    }


def depth_parity(reference: np.ndarray, other: np.ndarray) -> dict:
    """How far two depth maps of one photo differ, as shares of the reference's range."""
    span = float(reference.max() - reference.min()) or 1.0
    difference = np.abs(other.astype(np.float64) - reference.astype(np.float64))
    mean_share, max_share = float(difference.mean()) / span, float(difference.max()) / span
    return {
        "mean_share": round(mean_share, 6),
        "max_share": round(max_share, 6),
        "parity": mean_share <= DEPTH_MEAN_SHARE and max_share <= DEPTH_MAX_SHARE,
    }
