"""Where a model runs, decided once at load time, the same way for torch and ONNX Runtime.

``DEVICE`` is ``auto`` (CUDA when the runtime can use it, else the CPU), ``cpu``, ``cuda`` or
``cuda:N``. An explicit CUDA device that cannot be used fails the load with a message that says what
to install or set: a service asked for a GPU must never answer from the CPU unnoticed. ``HALF``
(``auto`` = fp16 on CUDA only) and ``TORCH_THREADS`` are decided here too, so that both runtimes
report and log the same :class:`Placement`. Standard library only.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from apis.core.errors import ModelLoadError
from apis.core.settings import DEVICE_PATTERN

log = logging.getLogger("apis.runtimes")


def cuda_index(device: str) -> int | None:
    """The CUDA ordinal of ``cuda``/``cuda:N`` (``cuda`` is 0); None for ``cpu`` and ``auto``."""
    if not DEVICE_PATTERN.match(device):
        raise ModelLoadError(f"DEVICE={device!r} is not one of auto, cpu, cuda, cuda:N")
    if not device.startswith("cuda"):
        return None
    return int(device.partition(":")[2] or 0)


def wants_half(half: str, device: str) -> bool:
    """Whether to run in fp16: ``HALF=auto`` on a CUDA device only, ``true`` (CUDA only), ``false`` never.

    HALF is a GPU setting: ``HALF=true`` with a CPU device fails the load instead of being ignored.
    """
    on_cuda = device.startswith("cuda")
    if half == "false":
        return False
    if half == "true" and not on_cuda:
        raise ModelLoadError(f"HALF=true needs a CUDA device, but the model runs on {device}; set HALF=auto")
    if half not in ("auto", "true"):
        raise ModelLoadError(f"HALF={half!r} is not one of auto, true, false")
    return on_cuda


def cpu_threads(requested: int, device: str) -> int | None:
    """Intra-op CPU threads to pin for a model on ``device``; None leaves the runtime's own default.

    ``TORCH_THREADS`` set (> 0) is always applied. 0 on the CPU means one thread per available core:
    the model is the only heavy work of the worker. 0 on CUDA pins nothing: the model's work is on the
    GPU, and a pool sized to every core would only compete with the worker's decoding and with other
    workers sharing the machine.
    """
    if requested:
        return requested
    return None if device.startswith("cuda") else len(os.sched_getaffinity(0))


@dataclass(frozen=True)
class Placement:
    """Where one loaded model runs, as ``/model-info`` and every response's ``model`` block report it."""

    device: str  # "cpu", "cuda:0" ...
    provider: str  # "torch", or the ONNX Runtime execution provider that runs the model
    precision: str  # "fp32" or "fp16"
    reason: str  # why: what DEVICE asked and what the runtime found

    def log(self, service: str, model: str) -> None:
        """The one start-up line saying which device and provider run the model, and why."""
        what = (service, self.provider, model, self.device, self.precision, self.reason)
        log.info("%s: %s runs %s on %s (%s); %s", *what)
