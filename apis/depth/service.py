"""``POST /predict_depth``: the depth service plugged into the shared API core."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, jsonify

from apis.core import requests as fields
from apis.core.images import encode_data_url
from apis.core.openapi import UPLOAD_ERRORS, endpoint
from apis.core.service import ModelService, current_host
from apis.core.settings import CoreSettings
from apis.depth import objects, render
from apis.depth.backends import create_estimator
from apis.depth.schemas import DepthForm, PredictDepthResponse
from apis.depth.settings import DepthSettings
from apis.routes import DEPTH


class DepthService(ModelService):
    """Depth estimation with Depth Anything V2 (transformers): a depth map, and how near each object is."""

    route = DEPTH
    # About 7 photos (~1.3 s each on 2 cores; any shape's model input is bounded): a 10 s wait at most.
    max_queue_wait_s = 10.0

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
            "backend": self.estimator.backend,
        }

    def blueprint(self) -> Blueprint:
        blueprint = Blueprint("depth", __name__)
        blueprint.add_url_rule("/predict_depth", view_func=self._predict_depth, methods=["POST"])
        return blueprint

    def field_schemas(self) -> dict[str, dict[str, Any]]:
        """``colormap`` takes any colormap name matplotlib knows."""
        return {"colormap": {"enum": render.colormap_names()}}

    @endpoint(
        summary="Depth map of a photo, and the depth and nearness rank of each object in it",
        form=DepthForm,
        upload_field="image",
        response=PredictDepthResponse,
        errors=UPLOAD_ERRORS,
    )
    def _predict_depth(self):
        started = time.perf_counter()
        host = current_host()
        host.require_ready()
        core: CoreSettings = current_app.extensions["settings"]
        form = fields.read_fields(DepthForm, context={"max_objects": self.settings.max_objects})
        colormap = form.colormap or self.settings.colormap
        queries = form.object_queries(self.settings.max_objects)
        detection_count = len(queries) if form.detection_count is None else form.detection_count
        upload = fields.read_image(core)
        decoded_at = time.perf_counter()

        prediction, waited_s = host.infer(lambda: self.estimator.predict(upload.image))
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
                **form.client_image_info(),
                "original_size": upload.original_size,
                "filename": upload.filename,
                "format": upload.source_format,
            },
            "detection_info": {"detection_count": detection_count, "midpoints_processed": len(measured)},
            "depth_stats": {k: round(v, 4) for k, v in stats.items()},
            "depth_at_objects": measured,
        }
        encode_started = time.perf_counter()
        if form.include_images:
            nearness = objects.closeness(
                depth, stats["min_depth"], stats["max_depth"], larger_is_closer=semantics.larger_is_closer
            )
            body["images"] = self._pictures(
                upload.image, nearness, colormap, grayscale=form.grayscale, pred_only=form.pred_only
            )
        if form.include_depth_map:
            picture, undo = render.depth_png16(depth)
            body["depth_map"] = {
                "png16": encode_data_url(picture, fmt="PNG"),
                **undo,
                "semantics": semantics.value,
            }
        if form.include_images or form.include_depth_map:
            timing["encode"] = (time.perf_counter() - encode_started) * 1000
        timing["total"] = (time.perf_counter() - started) * 1000
        body["timing_ms"] = {k: round(v, 2) for k, v in timing.items()}
        current_app.extensions["metrics"].observe_stages(body["timing_ms"])
        # Answer through the documented schema: the keys sent are exactly those set here.
        return jsonify(PredictDepthResponse.model_validate(body).model_dump(mode="json", exclude_unset=True))

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
