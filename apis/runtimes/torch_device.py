"""Device, precision and threads of torch-backed services (torch is imported only when called)."""

from __future__ import annotations

from apis.core.errors import ModelLoadError
from apis.runtimes.device import Placement, cpu_threads, cuda_index, wants_half


def resolve_torch_device(requested: str) -> str:
    """``auto`` becomes ``cuda:0`` when torch can use CUDA, else ``cpu``; ``cuda`` becomes ``cuda:0``.

    ``cuda``/``cuda:N`` that torch cannot use (a CPU-only torch, no driver, N beyond the visible
    devices) fail with :class:`ModelLoadError` saying so.
    """
    import torch

    index = cuda_index(requested)
    if requested == "auto":
        return "cuda:0" if torch.cuda.is_available() else "cpu"
    if index is None:
        return "cpu"
    if not torch.cuda.is_available():
        raise ModelLoadError(
            f"DEVICE={requested}, but torch {torch.__version__} sees no CUDA device (CUDA build: "
            f"{torch.version.cuda or 'none'}); check the driver and CUDA_VISIBLE_DEVICES, or set DEVICE=auto"
        )
    count = torch.cuda.device_count()
    if index >= count:
        visible = f"cuda:0..cuda:{count - 1}" if count else "none"
        raise ModelLoadError(f"DEVICE={requested}, but torch sees {count} CUDA device(s) ({visible})")
    return f"cuda:{index}"


def place_torch(requested: str, half: str) -> Placement:
    """Where a torch model runs for ``DEVICE=requested`` and ``HALF=half``, and why."""
    device = resolve_torch_device(requested)
    fp16 = wants_half(half, device)
    if requested == "auto":
        found = "found CUDA" if device != "cpu" else "found no CUDA"
        reason = f"DEVICE=auto {found}"
    else:
        reason = f"DEVICE={requested}"
    reason += f", HALF={half}"
    return Placement(device, "torch", "fp16" if fp16 else "fp32", reason)


def apply_torch_threads(threads: int, device: str = "cpu") -> int | None:
    """Set torch's intra-op threads as :func:`apis.runtimes.device.cpu_threads` decides; the number set."""
    import torch

    count = cpu_threads(threads, device)
    if count is not None:
        torch.set_num_threads(count)
    return count
