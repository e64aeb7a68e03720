"""Export the configured Depth Anything model to ONNX with torch.onnx (needs torch and transformers).

The graph gets dynamic height and width. transformers' Depth Anything head upsamples to
``int(patch_height * patch_size)``; the ``int()`` freezes that size while tracing, so an export
would answer at the traced size only. During the export the head's forward is replaced by the same
computation without the cast (:class:`_TraceableHead`), and the result is checked against the torch
model at a second, differently shaped input before the file is kept.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from apis.core.errors import ModelLoadError
from apis.depth.settings import DepthSettings
from apis.depth.weights import resolve_model
from apis.runtimes.onnx_manifest import Manifest, sha256_of

OPSET = 17
# Traced with odd patch counts (19 x 25 patches) and checked at another shape (the transposed one).
TRACE_SHAPE = (19 * 14, 25 * 14)
CHECK_SHAPE = (25 * 14, 19 * 14)
# Largest difference, relative to the map's range, accepted between ONNX Runtime and torch.
CHECK_TOLERANCE = 1e-3


def _traceable_head(head):
    """Wrap transformers' DepthAnythingDepthEstimationHead so its upsampling size stays symbolic."""
    import torch

    class _TraceableHead(torch.nn.Module):
        def __init__(self, original) -> None:
            super().__init__()
            self.original = original

        def forward(self, hidden_states, patch_height, patch_width):
            h = self.original
            depth = h.conv1(hidden_states[h.head_in_index])
            size = (
                patch_height * h.patch_size,
                patch_width * h.patch_size,
            )  # no int(): stays traced
            depth = torch.nn.functional.interpolate(depth, size, mode="bilinear", align_corners=True)
            depth = h.activation1(h.conv2(depth))
            depth = h.activation2(h.conv3(depth)) * h.max_depth
            return depth.squeeze(dim=1)

    return _TraceableHead(head)


def export_depth(settings: DepthSettings, onnx_path: Path, manifest_path: Path) -> Manifest:
    """Write ``onnx_path`` (pixel_values -> predicted_depth, dynamic sides) and its manifest."""
    s = settings
    folder = resolve_model(
        s.model, cache_dir=s.cache_dir, revision=s.revision, allow_download=s.allow_download
    )
    import onnxruntime
    import torch
    import transformers
    from transformers import AutoImageProcessor, AutoModelForDepthEstimation

    model = AutoModelForDepthEstimation.from_pretrained(folder).eval()
    processor = AutoImageProcessor.from_pretrained(folder)
    original_head = model.head
    model.head = _traceable_head(original_head)

    class _DepthOnly(torch.nn.Module):
        def __init__(self, wrapped) -> None:
            super().__init__()
            self.wrapped = wrapped

        def forward(self, pixel_values):
            return self.wrapped(pixel_values=pixel_values).predicted_depth

    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    # The tracer warns about every shape test in transformers' code; those are constant for this model.
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(
            _DepthOnly(model),
            (torch.zeros(1, 3, *TRACE_SHAPE),),
            str(onnx_path),
            input_names=["pixel_values"],
            output_names=["predicted_depth"],
            dynamic_axes={
                "pixel_values": {0: "batch", 2: "height", 3: "width"},
                "predicted_depth": {0: "batch", 1: "height", 2: "width"},
            },
            opset_version=OPSET,
            dynamo=False,
        )
    model.head = original_head
    _check_against_torch(model, onnx_path, onnxruntime)

    kind = getattr(model.config, "depth_estimation_type", "relative")
    manifest = Manifest(
        service="depth",
        source=s.model,
        source_path=str(folder),
        onnx_file=onnx_path.name,
        sha256=sha256_of(onnx_path),
        opset=OPSET,
        input={"name": "pixel_values", "height": None, "width": None, "size": s.input_size},
        depth={
            "semantics": "metric_meters" if kind == "metric" else "relative_inverse",
            "max_depth": float(model.config.max_depth) if kind == "metric" else None,
            "parameters": sum(p.numel() for p in model.parameters()),
            "preprocess": {
                "keep_aspect_ratio": bool(processor.keep_aspect_ratio),
                "ensure_multiple_of": int(processor.ensure_multiple_of),
                "resample": int(processor.resample),
                "rescale_factor": float(processor.rescale_factor),
                "image_mean": [float(v) for v in processor.image_mean],
                "image_std": [float(v) for v in processor.image_std],
            },
        },
        exported_with={"torch": torch.__version__, "transformers": transformers.__version__},
    )
    manifest.write(manifest_path)
    return manifest


def _check_against_torch(model, onnx_path: Path, onnxruntime) -> None:
    """The export must answer a differently shaped input like the torch model, or it is deleted."""
    import torch

    generator = torch.Generator().manual_seed(0)
    pixels = torch.randn(1, 3, *CHECK_SHAPE, generator=generator)
    with torch.inference_mode():
        expected = model(pixel_values=pixels).predicted_depth.numpy()
    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"pixel_values": pixels.numpy()})[0]
    spread = float(np.ptp(expected)) or 1.0
    error = float(np.abs(got - expected).max()) / spread if got.shape == expected.shape else float("inf")
    if error > CHECK_TOLERANCE:
        onnx_path.unlink(missing_ok=True)
        raise ModelLoadError(
            f"the ONNX export of {onnx_path.name} differs from the torch model at input {CHECK_SHAPE} "
            f"(shape {got.shape} vs {expected.shape}, error {error:.2g} of the range); has transformers' "
            "Depth Anything head changed? See apis/export/depth.py."
        )
