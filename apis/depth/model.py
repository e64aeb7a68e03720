"""The Depth Anything model of one worker: load, warm up, predict a depth map. Knows nothing of HTTP."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image

from apis.core.errors import ModelLoadError
from apis.depth.backends import DepthPrediction, DepthSemantics, TorchDepthConfig
from apis.depth.geometry import plan_depth_input, restore_depth
from apis.depth.weights import resolve_model
from apis.runtimes.device import Placement
from apis.runtimes.torch_device import apply_torch_threads, place_torch


class DepthEstimator:
    """The torch backend: a transformers depth model. Not thread-safe: callers hold the inference gate."""

    backend = "torch"

    def __init__(self, config: TorchDepthConfig) -> None:
        self.config = config
        self.placement: Placement | None = None
        self.model_path: Path | None = None
        self.semantics = DepthSemantics.RELATIVE_INVERSE
        self.max_depth: float | None = None
        self._model = None
        self._processor = None
        self._dtype = None  # torch.float16 or float32, chosen at load

    def load(self) -> None:
        """Resolve the model folder, load model and image processor, warm up with one inference."""
        c = self.config
        path = resolve_model(
            c.model, cache_dir=c.cache_dir, revision=c.revision, allow_download=c.allow_download
        )
        import torch  # fail here, not inside transformers, when torch is missing
        from transformers import AutoImageProcessor, AutoModelForDepthEstimation
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        self.placement = place_torch(c.device, c.half)
        self._dtype = torch.float16 if self.placement.precision == "fp16" else torch.float32
        apply_torch_threads(c.torch_threads, self.placement.device)
        try:
            model = AutoModelForDepthEstimation.from_pretrained(path)
            processor = AutoImageProcessor.from_pretrained(path)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelLoadError(
                f"{path} is not a loadable depth model ({type(exc).__name__}: {exc})"
            ) from exc
        self._model = model.to(self.placement.device, dtype=self._dtype).eval()
        self._processor = processor
        self.model_path = path
        kind = getattr(model.config, "depth_estimation_type", "relative")
        self.semantics = DepthSemantics.METRIC_METERS if kind == "metric" else DepthSemantics.RELATIVE_INVERSE
        self.max_depth = float(model.config.max_depth) if kind == "metric" else None
        self.predict(Image.new("RGB", (c.input_size, c.input_size), (114, 114, 114)))
        self.placement.log("depth", path.name)

    @property
    def parameter_count(self) -> int:
        return sum(p.numel() for p in self._model.parameters()) if self._model is not None else 0

    def predict(self, image: Image.Image) -> DepthPrediction:
        """Depth of an RGB image at that image's size (the map resampled bicubic, as transformers does)."""
        if self._model is None or self._processor is None:
            raise RuntimeError("model not loaded")
        import torch

        started = time.perf_counter()
        # The shape the network sees is planned once for both backends: padded, within a token budget.
        # The photo is resized to its place in that picture first; only the small result is padded.
        plan = plan_depth_input(image, self.config.input_size, max_tokens=self.config.max_tokens)
        left, top, right, bottom = plan.inner
        inputs = self._processor(
            images=image,
            size={"height": bottom - top, "width": right - left},
            keep_aspect_ratio=False,
            ensure_multiple_of=1,
            return_tensors="pt",
        )
        pad_top, pad_bottom, pad_left, pad_right = plan.padding
        pixel_values = torch.nn.functional.pad(
            inputs["pixel_values"], (pad_left, pad_right, pad_top, pad_bottom), mode="replicate"
        ).to(self.placement.device, dtype=self._dtype)
        prepared = time.perf_counter()
        with torch.inference_mode():
            predicted = self._model(pixel_values=pixel_values).predicted_depth
            # .cpu() also waits for the device, so "inference" is the whole model call.
            predicted = predicted[0].float().cpu().numpy()
        # Only the photo's part of the small map goes back to the photo's size (bicubic, as torch's).
        depth = restore_depth(predicted, plan, image.size)
        # The heads end in ReLU (>= 0) or sigmoid x max_depth; bicubic overshoot past them is an artefact.
        np.clip(depth, 0, self.max_depth, out=depth)
        return DepthPrediction(
            depth=depth,
            timing_ms={
                "preprocess": (prepared - started) * 1000,
                "inference": (time.perf_counter() - prepared) * 1000,
            },
        )
