"""One ONNX Runtime session per worker, configured like the torch backends (device, threads)."""

from __future__ import annotations

import os
from pathlib import Path

from apis.core.service import ModelLoadError

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
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: shape-inference notes are noise in service logs
    try:
        session = ort.InferenceSession(str(path), options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own exception types for unreadable models
        raise ModelLoadError(f"{path} is not a loadable ONNX model ({type(exc).__name__}: {exc})") from exc
    running = f"cuda:{device_id}" if session.get_providers()[0] == CUDA else "cpu"
    return session, running
