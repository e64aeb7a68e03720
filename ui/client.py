"""The one place that knows the HTTP contract of the two APIs.

Page code gets typed results or an :class:`ApiCallError` whose message can be shown as is.
Every call has a timeout; a connection that fails before a request was answered (API restarting,
connection reset) is retried once, which is safe because both APIs are pure functions of the upload.
A busy API (503 with ``Retry-After``) is asked again after the pause it names, as long as the answer
can still come within the call's time budget; ``on_wait`` hears about each pause.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath
from typing import Any

import requests

from ui.results import Box, DepthResult, DepthStats, DetectedObject, Detection, ObjectDepth
from ui.settings import UiSettings

RETRY_PAUSE_S = 0.5
HEALTH_TIMEOUT_S = 3.0
# Retry-After values above this are not waited for (an API that is down for minutes is not "busy").
MAX_RETRY_AFTER_S = 30.0

#: Told, before each pause, why the client waits: a sentence for people, and the pause in seconds.
WaitListener = Callable[[str, float], None]


class Service(StrEnum):
    DETECTION = "detection"
    DEPTH = "depth"

    @property
    def title(self) -> str:
        """``detection API``, for the middle of a sentence."""
        return f"{self.value} API"

    @property
    def heading(self) -> str:
        """``Detection API``, for the start of a line."""
        return f"{self.value.capitalize()} API"


class Failure(StrEnum):
    """Why a call gave no result."""

    UNREACHABLE = "unreachable"  # nothing answers at the URL (stopped, wrong URL)
    TIMEOUT = "timeout"  # connected, but no answer in time (overloaded, slow model)
    UNAVAILABLE = "unavailable"  # 503: model loading, failed to load, or queue full
    REJECTED = "rejected"  # 4xx: the API refused this image or these parameters
    FAILED = "failed"  # 5xx or an answer that is not the contract


class ApiCallError(Exception):
    """A call to one API gave no usable result; ``str()`` is a sentence for people."""

    def __init__(
        self, service: Service, failure: Failure, message: str, *, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.service = service
        self.failure = failure
        self.status = status


@dataclass(frozen=True)
class Health:
    """One API as the sidebar shows it."""

    service: Service
    ok: bool
    status: str
    detail: str = ""
    model: str = ""
    classes: tuple[str, ...] = ()
    backend: str = ""
    device: str = ""


class ApiClient:
    """Calls the detection and depth APIs at the URLs of :class:`UiSettings`."""

    def __init__(self, settings: UiSettings, session: requests.Session | None = None) -> None:
        self.settings = settings
        self._session = session or requests.Session()
        api_key = settings.api_keys.replace("\n", ",").split(",")[0].strip()
        if api_key:
            self._session.headers["X-API-Key"] = api_key
        self._urls = {Service.DETECTION: settings.detection_api_url, Service.DEPTH: settings.depth_api_url}

    def url(self, service: Service) -> str:
        return self._urls[service]

    def detect(
        self,
        image: bytes,
        filename: str,
        *,
        conf: float,
        iou: float,
        classes: list[str] | None = None,
        on_wait: WaitListener | None = None,
    ) -> Detection:
        """``POST /detect``: the objects in ``image`` above ``conf``, optionally only ``classes``."""
        form = {"conf": f"{conf:g}", "iou": f"{iou:g}"}
        if classes:
            form["classes"] = json.dumps(classes)
        body = self._post(
            Service.DETECTION, "/detect", image, filename, form, self.settings.detection_timeout_s, on_wait
        )
        try:
            objects = [
                DetectedObject(str(d["class_name"]), float(d["confidence"]), Box.from_json(d["bbox"]))
                for d in body["detections"]
            ]
            model = str(body.get("model", {}).get("weights", ""))
        except (KeyError, TypeError, ValueError) as exc:
            raise _not_the_contract(Service.DETECTION, exc) from None
        return Detection(objects=objects, model=model, raw=body)

    def predict_depth(
        self,
        image: bytes,
        filename: str,
        detections: list[dict[str, Any]] | None,
        on_wait: WaitListener | None = None,
    ) -> DepthResult:
        """``POST /predict_depth``: the depth map of ``image`` and the depth of each detection."""
        form = {"include_images": "true"}
        if detections is not None:
            form["detections"] = json.dumps(detections)
        body = self._post(
            Service.DEPTH, "/predict_depth", image, filename, form, self.settings.depth_timeout_s, on_wait
        )
        try:
            images = body.get("images") or {}
            picture_type, colored = _data_url_bytes(images["depth_colored"])
            _, side_by_side = _data_url_bytes(images["depth_visualization"])
            objects = [
                ObjectDepth(
                    class_name=str(o["class_name"]),
                    confidence=float(o["confidence"]),
                    box=Box.from_json(o["bbox"]),
                    depth=float(o.get("depth_median", o["depth_value"])),
                    closeness=float(o["closeness"]),
                    rank=int(o["rank"]),
                )
                for o in body.get("depth_at_objects") or []
            ]
            stats = body["depth_stats"]
            depth_stats = DepthStats(
                float(stats["min_depth"]),
                float(stats["max_depth"]),
                float(stats["mean_depth"]),
                float(stats["std_depth"]),
            )
            semantics = str(body.get("depth_semantics", "relative_inverse"))
            model = _model_name(body.get("model_info") or {})
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise _not_the_contract(Service.DEPTH, exc) from None
        objects.sort(key=lambda o: o.rank)
        raw = {key: value for key, value in body.items() if key != "images"}
        return DepthResult(objects, depth_stats, semantics, model, colored, side_by_side, picture_type, raw)

    def health(self, service: Service) -> Health:
        """``GET /health`` and, when healthy, ``GET /model-info``; never raises."""
        base = self.url(service)
        try:
            response = self._session.get(
                f"{base}/health", timeout=(self.settings.connect_timeout_s, HEALTH_TIMEOUT_S)
            )
        except requests.Timeout:
            return Health(service, False, "timeout", f"no answer from {base} within {HEALTH_TIMEOUT_S:g} s")
        except requests.RequestException:
            return Health(service, False, "unreachable", f"nothing answers at {base}")
        body = _json_or_empty(response)
        if response.status_code != 200:
            status = str(body.get("status") or f"HTTP {response.status_code}")
            return Health(service, False, status, str(body.get("error") or ""))
        try:
            info = self._session.get(
                f"{base}/model-info", timeout=(self.settings.connect_timeout_s, HEALTH_TIMEOUT_S)
            )
            info_body = _json_or_empty(info) if info.status_code == 200 else {}
        except requests.RequestException:
            info_body = {}
        classes = info_body.get("classes")
        names = tuple(str(name) for name in classes.values()) if isinstance(classes, dict) else ()
        return Health(
            service,
            True,
            "ok",
            model=_model_name(info_body),
            classes=names,
            backend=str(info_body.get("backend") or ""),
            device=str(info_body.get("device") or ""),
        )

    def metrics_text(self, service: Service) -> str | None:
        """``GET /metrics`` (Prometheus text) for the status page; None when the API does not answer it."""
        try:
            response = self._session.get(
                f"{self.url(service)}/metrics", timeout=(self.settings.connect_timeout_s, HEALTH_TIMEOUT_S)
            )
        except requests.RequestException:
            return None
        return response.text if response.status_code == 200 else None

    def _post(
        self,
        service: Service,
        path: str,
        image: bytes,
        filename: str,
        form: dict[str, str],
        budget_s: float,
        on_wait: WaitListener | None = None,
    ) -> dict[str, Any]:
        """POST the image; retried while the API says it is busy and ``budget_s`` allows."""
        deadline = time.monotonic() + budget_s
        payload = {"files": {"image": (filename, image)}, "data": form}
        while True:
            response = self._send(service, f"{self.url(service)}{path}", payload, budget_s)
            pause = _retry_after(response)
            left = deadline - time.monotonic()
            if pause is None or pause >= left:
                break
            if on_wait is not None:
                on_wait(f"The {service.title} is busy, retrying in {pause:g} s.", pause)
            time.sleep(pause)
            budget_s = deadline - time.monotonic()
        body = _json_or_empty(response)
        if response.status_code == 200 and body.get("success") is True:
            return body
        reason = str(body.get("error") or response.reason or "no reason given")
        status = response.status_code
        if status == 503:
            failure, message = Failure.UNAVAILABLE, f"The {service.title} is not ready: {reason}"
        elif 400 <= status < 500:
            failure, message = Failure.REJECTED, f"The {service.title} refused the image: {reason}"
        else:
            failure, message = Failure.FAILED, f"The {service.title} failed (HTTP {status}): {reason}"
        raise ApiCallError(service, failure, message, status=status)

    def _send(
        self, service: Service, url: str, payload: dict[str, Any], read_timeout_s: float
    ) -> requests.Response:
        """One POST of ``payload`` (files and form), with the one retry of a failed connection."""
        timeout = (self.settings.connect_timeout_s, read_timeout_s)
        for attempt in (1, 2):
            try:
                return self._session.post(url, **payload, timeout=timeout)
            except requests.ReadTimeout:
                raise ApiCallError(
                    service,
                    Failure.TIMEOUT,
                    f"The {service.title} did not answer within {self._budget(service):g} s.",
                ) from None
            except requests.ConnectionError:
                if attempt == 2:
                    raise ApiCallError(
                        service,
                        Failure.UNREACHABLE,
                        f"The {service.title} cannot be reached at {self.url(service)}.",
                    ) from None
                time.sleep(RETRY_PAUSE_S)
        raise AssertionError("unreachable")  # pragma: no cover

    def _budget(self, service: Service) -> float:
        if service is Service.DETECTION:
            return self.settings.detection_timeout_s
        return self.settings.depth_timeout_s


def _retry_after(response: requests.Response) -> float | None:
    """The pause a 503 asks for (``Retry-After`` in seconds), or ``None`` when it asks for none."""
    if response.status_code != 503:
        return None
    try:
        pause = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return pause if 0 <= pause <= MAX_RETRY_AFTER_S else None


def _json_or_empty(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _data_url_bytes(url: str) -> tuple[str, bytes]:
    """The MIME type and bytes of a ``data:image/...;base64,`` URL."""
    header, _, payload = url.partition(",")
    if not header.startswith("data:image/") or not header.endswith(";base64"):
        raise ValueError(f"not a base64 image data URL: {header[:40]!r}")
    return header[len("data:") : -len(";base64")], base64.b64decode(payload, validate=True)


def _model_name(info: dict[str, Any]) -> str:
    """The model's name as people know it: a hub id or file name, not a long local path."""
    for key in ("weights", "model", "name", "model_name"):
        value = info.get(key)
        if isinstance(value, str) and value:
            return PurePath(value).name if value.startswith(("/", "~", ".")) else value
    return ""


def _not_the_contract(service: Service, exc: Exception) -> ApiCallError:
    return ApiCallError(
        service,
        Failure.FAILED,
        f"The {service.title} answered something unexpected ({type(exc).__name__}: {exc}).",
    )
