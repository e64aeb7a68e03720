"""One ONNX Runtime session per worker, configured like the torch backends (device, threads)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from apis.core.errors import ModelLoadError
from apis.runtimes.onnx_manifest import Manifest, load_checked

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


def open_session(path: Path, *, device: str = "auto", threads: int = 0):
    """An ``onnxruntime.InferenceSession`` for ``path`` and the device it runs on (``cpu``, ``cuda:0``).

    ``device`` is the services' DEVICE: ``auto`` takes CUDA when this onnxruntime build has it;
    ``cuda``/``cuda:N`` without it fail with a clear message. ``threads`` is TORCH_THREADS, used for
    ONNX Runtime's intra-op pool (0 = one per available core), so both backends share one knob.
    """
    import onnxruntime as ort

    available = ort.get_available_providers()
    wants_cuda = device.startswith("cuda") or (device == "auto" and CUDA in available)
    if device.startswith("cuda") and CUDA not in available:
        raise ModelLoadError(
            f"DEVICE={device}, but this onnxruntime has no CUDA provider (install onnxruntime-gpu)"
        )
    if not wants_cuda and device not in ("auto", "cpu"):
        raise ModelLoadError(f"DEVICE={device} is not supported by the onnx backend (auto, cpu, cuda[:N])")
    device_id = int(device.partition(":")[2] or 0) if device.startswith("cuda") else 0
    providers: list = [(CUDA, {"device_id": device_id}), CPU] if wants_cuda else [CPU]

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or len(os.sched_getaffinity(0))
    options.inter_op_num_threads = 1
    # Idle pool threads sleep instead of spinning: while they spin they take the cores from the
    # request threads decoding and answering the requests behind the one on the model (detection,
    # 8 and 32 clients: goodput 1.5-4 x with spinning off, docs/serving.md#no-wasted-cores).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: shape-inference notes are noise in service logs
    try:
        session = ort.InferenceSession(str(path), options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own exception types for unreadable models
        raise ModelLoadError(f"{path} is not a loadable ONNX model ({type(exc).__name__}: {exc})") from exc
    running = f"cuda:{device_id}" if session.get_providers()[0] == CUDA else "cpu"
    return session, running


@dataclass
class OnnxModel:
    """An exported model opened for inference: its manifest, its session and its one image input."""

    manifest: Manifest
    session: Any  # onnxruntime.InferenceSession
    device: str
    input_name: str
    #: (height, width) when the export has fixed sides; None when they are dynamic.
    fixed_shape: tuple[int, int] | None

    def run(self, batch: np.ndarray) -> np.ndarray:
        """The first output for one float32 NCHW batch."""
        return self.session.run(None, {self.input_name: batch})[0]


def open_model(
    onnx_path: Path, manifest_path: Path, *, service: str, source: str, device: str, threads: int
) -> OnnxModel:
    """Check the export against its manifest and the configured source, then open it."""
    manifest = load_checked(onnx_path, manifest_path, service=service, source=source)
    session, running = open_session(onnx_path, device=device, threads=threads)
    model_input = session.get_inputs()[0]
    height, width = model_input.shape[2:]
    fixed = isinstance(height, int) and isinstance(width, int)
    return OnnxModel(manifest, session, running, model_input.name, (height, width) if fixed else None)
