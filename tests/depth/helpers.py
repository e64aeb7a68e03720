"""Request and assertion helpers of the depth tests."""

from __future__ import annotations

import io
import json
from typing import Any


def predict(client, data: bytes, filename: str = "photo.jpg", path: str = "/predict_depth", **fields):
    """``POST /predict_depth`` as a multipart form; lists and dicts go as JSON, the rest as ``str()``."""
    form: dict[str, Any] = {"image": (io.BytesIO(data), filename)}
    for key, value in fields.items():
        form[key] = json.dumps(value) if isinstance(value, list | dict) else str(value)
    return client.post(path, data=form, content_type="multipart/form-data")


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    """A JSON error with this status and code (and naming ``field`` when given)."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["success"] is False
    assert body["code"] == code
    assert isinstance(body["error"], str) and body["error"]
    if field is not None:
        assert body["field"] == field
        assert body["error"].startswith(f"{field}:")
    return body


def detection(
    x1: float, y1: float, x2: float, y2: float, name: str = "person", confidence: float = 0.9
) -> dict:
    """One entry as ``POST /detect`` returns it."""
    return {
        "class_id": {"person": 0, "car": 2, "bus": 5}.get(name, 0),
        "class_name": name,
        "confidence": confidence,
        "bbox": {"x1": x1, "y1": y1, "x2": x2, "y2": y2},
    }
