"""``POST /predict_depth``: the depth model's hooks for the shared API core (no HTTP here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apis.core.hooks import ModelService, StageTimer
from apis.core.images import DecodedImage, encode_data_url
from apis.core.schemas import image_info, runs_on
from apis.core.settings import CoreSettings
from apis.depth import objects, render
from apis.depth.backends import DepthPrediction, create_estimator
from apis.depth.cache import DepthCacheSettings, DepthMapCache
from apis.depth.schemas import DepthForm, PredictDepthResponse
from apis.depth.settings import DepthSettings
from delivery.routes import DEPTH


@dataclass(frozen=True)
class DepthInputs:
    """One request's typed inputs: the photo, the parsed form, and the objects to measure."""

    image: DecodedImage
    form: DepthForm
    queries: list[objects.ObjectQuery]
    detection_count: int
    colormap: str


class DepthService(ModelService[DepthForm, DepthInputs, DepthPrediction]):
    """Depth estimation with Depth Anything V2 (transformers): a depth map, and how near each object is."""

    route = DEPTH
    predict_path = "/predict_depth"
    predict_summary = "Depth map of a photo, and the depth and nearness rank of each object in it"
    form = DepthForm
    response = PredictDepthResponse
    # About 7 photos (~1.3 s each on 2 cores; any shape's model input is bounded): a 10 s wait at most.
    max_queue_wait_s = 10.0

    def __init__(self, settings: DepthSettings | None = None, core: CoreSettings | None = None) -> None:
        self.settings = settings or DepthSettings()
        core = core or CoreSettings()
        render.check_colormap(self.settings.colormap)  # a bad default fails at start, not per request
        self.estimator = create_estimator(
            self.settings, device=core.device, torch_threads=core.torch_threads, half=core.half
        )
        model_key = (self.settings.model, self.settings.backend, self.settings.input_size)
        self.depth_cache = DepthMapCache.from_settings(DepthCacheSettings(), model_key)

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
            **runs_on(self.estimator.placement),
            "input_size": self.settings.input_size,
            "backend": self.estimator.backend,
        }

    def field_schemas(self) -> dict[str, dict[str, Any]]:
        """``colormap`` takes any colormap name matplotlib knows."""
        return {"colormap": {"enum": render.colormap_names()}}

    def form_context(self) -> dict[str, Any]:
        return {"max_objects": self.settings.max_objects}

    def decode_request(self, form: DepthForm, image: DecodedImage) -> DepthInputs:
        queries = form.object_queries(self.settings.max_objects)
        return DepthInputs(
            image=image,
            form=form,
            queries=queries,
            detection_count=len(queries) if form.detection_count is None else form.detection_count,
            colormap=form.colormap or self.settings.colormap,
        )

    def predict(self, inputs: DepthInputs) -> DepthPrediction:
        return self.estimator.predict(inputs.image.image)

    def run_model(
        self,
        inputs: DepthInputs,
        infer: Callable[[], tuple[DepthPrediction, float]],
        cache_lookups: Any = None,
    ) -> tuple[DepthPrediction, float]:
        """A photo seen recently (same pixels, same model settings) is answered from the depth-map cache."""
        return self.depth_cache.predict(inputs.image.image, infer, cache_lookups)

    def encode_response(
        self, inputs: DepthInputs, output: DepthPrediction, timer: StageTimer
    ) -> dict[str, Any]:
        form, depth, semantics = inputs.form, output.depth, self.estimator.semantics
        with timer.stage("postprocess"):
            measured = objects.measure_objects(
                depth,
                inputs.queries,
                larger_is_closer=semantics.larger_is_closer,
                box_core=self.settings.box_core,
            )
            stats = objects.depth_stats(depth)
        body: dict[str, Any] = {
            "success": True,
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "model_info": self.summary(),
            "depth_semantics": semantics.value,
            "image_info": {**(form.image_info or {}), **image_info(inputs.image)},
            "detection_info": {
                "detection_count": inputs.detection_count,
                "midpoints_processed": len(measured),
            },
            "depth_stats": {k: round(v, 4) for k, v in stats.items()},
            "depth_at_objects": measured,
        }
        if not (form.include_images or form.include_depth_map):
            return body
        with timer.stage("encode"):
            if form.include_images:
                nearness = objects.closeness(
                    depth, stats["min_depth"], stats["max_depth"], larger_is_closer=semantics.larger_is_closer
                )
                body["images"] = self._pictures(
                    inputs.image.image,
                    nearness,
                    inputs.colormap,
                    grayscale=form.grayscale,
                    pred_only=form.pred_only,
                )
            if form.include_depth_map:
                picture, undo = render.depth_png16(depth)
                body["depth_map"] = {
                    "png16": encode_data_url(picture, fmt="PNG"),
                    **undo,
                    "semantics": semantics.value,
                }
        return body

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
