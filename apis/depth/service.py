"""``POST /predict_depth``: the depth service plugged into the shared API core."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, jsonify

from apis.core import requests as fields
from apis.core.errors import invalid_parameter
from apis.core.images import encode_data_url
from apis.core.service import ModelService, current_host
from apis.core.settings import CoreSettings
from apis.depth import objects, render
from apis.depth.backends import create_estimator
from apis.depth.settings import DepthSettings
from apis.routes import DEPTH


class DepthService(ModelService):
    """Depth Anything behind ``POST /predict_depth``."""

    route = DEPTH

    def __init__(self, settings: DepthSettings | None = None, core: CoreSettings | None = None) -> None:
        self.settings = settings or DepthSettings()
        core = core or CoreSettings()
        render.check_colormap(self.settings.colormap)  # a bad default fails at start, not per request
        self.estimator = create_estimator(self.settings, device=core.device, torch_threads=core.torch_threads)

    def setup(self) -> None:
        self.estimator.load()

    def info(self) -> dict[str, Any]:
        e = self.estimator
        return {
            **self.summary(),
            "task": "depth-estimation",
            "backend": self.estimator.backend,
            "model_path": str(e.model_path) if e.model_path else None,
            "parameters": e.parameter_count,
            "depth_semantics": e.semantics.value,
            "max_depth_m": e.max_depth,
            "defaults": {"colormap": self.settings.colormap, "box_core": self.settings.box_core},
        }

    def summary(self) -> dict[str, Any]:
        """The short ``model_info`` block of every response."""
        return {
            "model": self.settings.model,
            "device": self.estimator.device,
            "input_size": self.settings.input_size,
        }

    def blueprint(self) -> Blueprint:
        blueprint = Blueprint("depth", __name__)
        blueprint.add_url_rule("/predict_depth", view_func=self._predict_depth, methods=["POST"])
        return blueprint

    def read_objects(self) -> list[objects.ObjectQuery]:
        """The points to measure, from ``midpoints`` or ``detections`` (one of them, or neither)."""
        given = [(name, fields.get_json(name)) for name in ("midpoints", "detections")]
        given = [(name, raw) for name, raw in given if raw is not None]
        if len(given) > 1:
            raise invalid_parameter("detections", "send either midpoints or detections, not both")
        if not given:
            return []
        name, raw = given[0]
        parse = objects.parse_midpoints if name == "midpoints" else objects.parse_detections
        try:
            return parse(raw, max_objects=self.settings.max_objects)
        except objects.ObjectInputError as exc:
            raise invalid_parameter(name, str(exc)) from None

    def _predict_depth(self):
        started = time.perf_counter()
        host = current_host()
        host.require_ready()
        core: CoreSettings = current_app.extensions["settings"]
        include_images = fields.get_bool("include_images", True)
        include_depth_map = fields.get_bool("include_depth_map", False)
        grayscale = fields.get_bool("grayscale", False)
        pred_only = fields.get_bool("pred_only", False)
        colormap = fields.get_str("colormap") or self.settings.colormap
        try:
            render.check_colormap(colormap)
        except KeyError as exc:
            raise invalid_parameter("colormap", exc.args[0]) from None
        client_image_info = fields.get_json("image_info")
        if client_image_info is not None and not isinstance(client_image_info, dict):
            raise invalid_parameter("image_info", "expected a JSON object")
        queries = self.read_objects()
        detection_count = fields.get_int("detection_count", len(queries), low=0, high=1_000_000)
        upload = fields.read_image(core)
        decoded_at = time.perf_counter()

        with host.gate.slot() as waited_s:
            prediction = self.estimator.predict(upload.image)
        postprocess_started = time.perf_counter()
        depth = prediction.depth
        semantics = self.estimator.semantics
        measured = objects.measure_objects(
            depth, queries, larger_is_closer=semantics.larger_is_closer, box_core=self.settings.box_core
        )
        stats = objects.depth_stats(depth)
        timing = {
            "decode": (decoded_at - started) * 1000,
            "queue": waited_s * 1000,
            **prediction.timing_ms,
            "postprocess": (time.perf_counter() - postprocess_started) * 1000,
        }

        body: dict[str, Any] = {
            "success": True,
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "model_info": self.summary(),
            "depth_semantics": semantics.value,
            "image_info": {
                **(client_image_info or {}),
                "original_size": upload.original_size,
                "filename": upload.filename,
                "format": upload.source_format,
            },
            "detection_info": {"detection_count": detection_count, "midpoints_processed": len(measured)},
            "depth_stats": {k: round(v, 4) for k, v in stats.items()},
            "depth_at_objects": measured,
        }
        encode_started = time.perf_counter()
        if include_images:
            nearness = objects.closeness(
                depth, stats["min_depth"], stats["max_depth"], larger_is_closer=semantics.larger_is_closer
            )
            body["images"] = self._pictures(
                upload.image, nearness, colormap, grayscale=grayscale, pred_only=pred_only
            )
        if include_depth_map:
            picture, undo = render.depth_png16(depth)
            body["depth_map"] = {
                "png16": encode_data_url(picture, fmt="PNG"),
                **undo,
                "semantics": semantics.value,
            }
        if include_images or include_depth_map:
            timing["encode"] = (time.perf_counter() - encode_started) * 1000
        timing["total"] = (time.perf_counter() - started) * 1000
        body["timing_ms"] = {k: round(v, 2) for k, v in timing.items()}
        current_app.extensions["metrics"].observe_stages(body["timing_ms"])
        return jsonify(body)

    def _pictures(
        self, photo, nearness, colormap: str, *, grayscale: bool, pred_only: bool
    ) -> dict[str, str]:
        """``depth_colored`` and ``depth_visualization`` (photo | depth; the depth alone if ``pred_only``)."""
        colored = render.colorize(nearness, colormap, grayscale=grayscale)
        quality = self.settings.jpeg_quality
        colored_url = encode_data_url(colored, quality=quality)
        if pred_only:
            return {"depth_visualization": colored_url, "depth_colored": colored_url}
        visualization = encode_data_url(render.side_by_side(photo, colored), quality=quality)
        return {"depth_visualization": visualization, "depth_colored": colored_url}
