"""Device and thread settings for torch-backed services (torch is imported only when called)."""

from __future__ import annotations

import os


def resolve_torch_device(requested: str) -> str:
    """``auto`` becomes ``cuda:0`` when CUDA is usable, else ``cpu``; anything else is kept."""
    import torch

    if requested != "auto":
        return requested
    return "cuda:0" if torch.cuda.is_available() else "cpu"


def apply_torch_threads(threads: int) -> int:
    """Set torch's intra-op threads (0 = one per available core) and return the number set."""
    import torch

    count = threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(count)
    return count
