"""Depth Anything through ONNX Runtime: the DPT image processor's steps on Pillow, numpy and OpenCV.

No torch and no transformers: the production image serves this.

Aspect ratio. Depth Anything exported with ``torch.onnx`` at one input size answers at that size
only: the head upsamples to a size traced as a constant. ``python -m apis.export`` therefore exports
with dynamic height and width (the head's upsampling traced from the input), and this backend feeds
exactly what the torch path feeds, planned by the same function
(:func:`apis.depth.geometry.plan_depth_input`): the image scaled as little as possible so that one
side is ``DEPTH_INPUT_SIZE``, aspect ratio kept, both sides rounded to multiples of 14, within a
token budget (bicubic, ImageNet mean and std). The map comes back at that size and the photo's part
of it is resampled to the original image (bicubic, clamped to the head's range), as the torch path
does. An ONNX file with a fixed input size (exported elsewhere) still works: the planned picture
(padded only when very thin) is stretched to that size and the map stretched back, at the cost of
some distortion for images of another shape.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image

from apis.depth.backends import DepthPrediction, DepthSemantics, OnnxDepthConfig
from apis.depth.geometry import pad_edges, plan_depth_input, restore_depth
from apis.runtimes.device import Placement
from apis.runtimes.onnx_session import OnnxModel, open_model


class OnnxDepthEstimator:
    """The onnx backend: a Depth Anything export on ONNX Runtime. Not thread-safe: callers hold the gate."""

    backend = "onnx"

    def __init__(self, config: OnnxDepthConfig) -> None:
        self.config = config
        self.placement: Placement | None = None
        self.model_path: Path | None = None
        self.semantics = DepthSemantics.RELATIVE_INVERSE
        self.max_depth: float | None = None
        self.onnx: OnnxModel | None = None
        self._parameters = 0
        self._multiple = 14
        self._resample = Image.Resampling.BICUBIC
        self._mean = np.zeros(3, np.float32)
        self._std = np.ones(3, np.float32)
        self._rescale = 1 / 255

    def load(self) -> None:
        """Check the export against its manifest and the configured model, open it, warm up."""
        c = self.config
        self.onnx = open_model(
            c.onnx_path,
            c.onnx_manifest_path,
            service="depth",
            source=c.model,
            device=c.device,
            threads=c.threads,
        )
        self.placement = self.onnx.placement
        depth = self.onnx.manifest.depth
        self.semantics = DepthSemantics(depth["semantics"])
        self.max_depth = depth.get("max_depth") if self.semantics is DepthSemantics.METRIC_METERS else None
        self._parameters = int(depth.get("parameters", 0))
        processor = depth["preprocess"]
        self._multiple = int(processor.get("ensure_multiple_of", 14))
        self._resample = Image.Resampling(int(processor.get("resample", Image.Resampling.BICUBIC)))
        self._mean = np.asarray(processor["image_mean"], np.float32)
        self._std = np.asarray(processor["image_std"], np.float32)
        self._rescale = float(processor.get("rescale_factor", 1 / 255))
        self.model_path = c.onnx_path
        self.predict(Image.new("RGB", (c.input_size, c.input_size), (114, 114, 114)))

    @property
    def parameter_count(self) -> int:
        return self._parameters

    def predict(self, image: Image.Image) -> DepthPrediction:
        """Depth of an RGB image, resized back to that image's size (bicubic, as the torch path)."""
        if self.onnx is None:
            raise RuntimeError("model not loaded")
        started = time.perf_counter()
        # As the torch path: the photo resized to its place in the planned picture, then padded there.
        rgb = image if image.mode == "RGB" else image.convert("RGB")  # convert() would copy an RGB photo
        plan = plan_depth_input(rgb, self.config.input_size, self._multiple, self.config.max_tokens)
        if self.onnx.fixed_shape is not None:
            plan = plan.resized_to(self.onnx.fixed_shape)
        left, top, right, bottom = plan.inner
        resized = np.asarray(rgb.resize((right - left, bottom - top), self._resample))
        pixels = pad_edges(resized, plan).astype(np.float32)
        pixels *= self._rescale  # in place: one float picture at a time
        pixels -= self._mean
        pixels /= self._std
        batch = np.ascontiguousarray(pixels.transpose(2, 0, 1)[None])
        prepared = time.perf_counter()
        predicted = self.onnx.run(batch)[0]
        # Only the photo's part of the map goes back to the photo's size (OpenCV's bicubic is torch's).
        depth = restore_depth(predicted, plan, rgb.size)
        # The heads end in ReLU (>= 0) or sigmoid x max_depth; bicubic overshoot past them is an artefact.
        np.clip(depth, 0, self.max_depth, out=depth)
        return DepthPrediction(
            depth=depth,
            timing_ms={
                "preprocess": (prepared - started) * 1000,
                "inference": (time.perf_counter() - prepared) * 1000,
            },
        )
