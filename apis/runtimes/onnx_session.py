"""One ONNX Runtime session per worker, placed like the torch backends (device, threads).

ONNX Runtime falls back to the CPU on its own when the CUDA provider is installed but cannot start
(no driver, missing CUDA or cuDNN libraries): the session then simply lacks it in
``get_providers()``. That is detected here and answered cleanly: ``DEVICE=auto`` reopens the model
on a session configured for the CPU and logs why; an explicit ``DEVICE=cuda[:N]`` fails the load.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from apis.core.errors import ModelLoadError
from apis.runtimes.device import Placement, cpu_threads, cuda_index
from apis.runtimes.onnx_manifest import Manifest, load_checked

log = logging.getLogger("apis.runtimes")
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
CUDA_HELP = (
    "check the NVIDIA driver (nvidia-smi), the CUDA and cuDNN libraries this onnxruntime-gpu was built "
    "for (pip install 'onnxruntime-gpu[cuda,cudnn]' brings them as wheels), and CUDA_VISIBLE_DEVICES"
)


def _new_session(path: Path, device: str, threads: int):
    """A session for ``path`` on ``device`` (``cpu`` or ``cuda:N``), threads as TORCH_THREADS decides."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    count = cpu_threads(threads, device)
    if count is not None:
        options.intra_op_num_threads = count
    options.inter_op_num_threads = 1
    # Idle pool threads sleep instead of spinning, on the CPU and on the GPU: while they spin they take
    # the cores from the request threads decoding and answering the requests behind the one on the
    # model (detection, 8 and 32 clients: goodput 1.5-4 x with spinning off,
    # docs/serving.md#no-wasted-cores).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: shape-inference notes are noise in service logs
    index = cuda_index(device)
    providers: list = [CPU] if index is None else [(CUDA, {"device_id": index}), CPU]
    try:
        return ort.InferenceSession(str(path), options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own exception types for unreadable models
        raise ModelLoadError(f"{path} is not a loadable ONNX model ({type(exc).__name__}: {exc})") from exc


def _preload_cuda_libraries(ort) -> None:
    """Load CUDA and cuDNN from the NVIDIA wheels (or torch's) before the CUDA provider needs them.

    onnxruntime-gpu finds them on the library path only; ``preload_dlls`` (onnxruntime 1.21+) also
    finds the pip-installed ``nvidia-*`` wheels. Best effort: what it cannot load, the provider
    reports by not starting, which :func:`open_session` handles.
    """
    preload = getattr(ort, "preload_dlls", None)
    if preload is not None:
        try:
            preload()
        except Exception as exc:  # missing wheels are reported later, by the provider not starting
            log.debug("onnxruntime.preload_dlls: %s", exc)


def open_session(path: Path, *, device: str = "auto", threads: int = 0) -> tuple[Any, Placement]:
    """An ``onnxruntime.InferenceSession`` for ``path`` and where it runs (device, provider, why).

    ``device`` is the services' DEVICE: ``auto`` takes CUDA when this onnxruntime build has the
    provider and it starts, else the CPU; ``cuda``/``cuda:N`` fail with a clear message when the
    provider is missing or does not start. ``threads`` is TORCH_THREADS (see
    :func:`apis.runtimes.device.cpu_threads`), so both backends share one knob.
    """
    import onnxruntime as ort

    index = cuda_index(device)
    listed = CUDA in ort.get_available_providers()
    if index is not None and not listed:
        raise ModelLoadError(
            f"DEVICE={device}, but this onnxruntime has no CUDA provider (install onnxruntime-gpu)"
        )
    if device == "cpu" or not listed:
        reason = "DEVICE=cpu" if device == "cpu" else "DEVICE=auto: this onnxruntime has no CUDA provider"
        return _new_session(path, "cpu", threads), Placement("cpu", CPU, "fp32", reason)

    wanted = f"cuda:{index or 0}"
    failure = ""
    _preload_cuda_libraries(ort)
    try:
        session = _new_session(path, wanted, threads)
        if session.get_providers()[0] == CUDA:
            found = "found the CUDA provider" if device == "auto" else "the CUDA provider started"
            return session, Placement(wanted, CUDA, "fp32", f"DEVICE={device}: {found}")
    except ModelLoadError as exc:
        failure = f" ({exc})"
    why = f"the CUDA provider is listed but did not start{failure}"
    if device != "auto":
        raise ModelLoadError(f"DEVICE={device}, but {why}; {CUDA_HELP}")
    # A clean CPU session: CPU threads and no half-configured CUDA provider, not ORT's own fallback.
    placement = Placement("cpu", CPU, "fp32", f"DEVICE=auto: {why}; running on the CPU ({CUDA_HELP})")
    return _new_session(path, "cpu", threads), placement


@dataclass
class OnnxModel:
    """An exported model opened for inference: its manifest, its session and its one image input."""

    manifest: Manifest
    session: Any  # onnxruntime.InferenceSession
    placement: Placement
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
    session, placement = open_session(onnx_path, device=device, threads=threads)
    placement.log(service, onnx_path.name)
    model_input = session.get_inputs()[0]
    height, width = model_input.shape[2:]
    fixed = isinstance(height, int) and isinstance(width, int)
    return OnnxModel(manifest, session, placement, model_input.name, (height, width) if fixed else None)
