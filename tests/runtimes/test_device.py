"""DEVICE, HALF and TORCH_THREADS decided once for both runtimes (torch.cuda mocked: no GPU here)."""

from __future__ import annotations

import logging
import os

import pytest
import torch
from pydantic import ValidationError

from apis.core.errors import ModelLoadError
from apis.core.settings import CoreSettings
from apis.runtimes.device import Placement, cpu_threads, cuda_index, wants_half
from apis.runtimes.torch_device import apply_torch_threads, place_torch, resolve_torch_device


@pytest.fixture()
def gpus(monkeypatch):
    """``gpus(n)``: torch sees ``n`` CUDA devices (0 = CUDA unavailable)."""

    def see(count: int) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: count)

    return see


@pytest.mark.parametrize(
    ("requested", "count", "expected"),
    [
        ("auto", 0, "cpu"),
        ("auto", 1, "cuda:0"),
        ("cpu", 1, "cpu"),
        ("cuda", 1, "cuda:0"),
        ("cuda:0", 2, "cuda:0"),
        ("cuda:1", 2, "cuda:1"),
    ],
)
def test_torch_device_resolution(gpus, requested, count, expected):
    gpus(count)
    assert resolve_torch_device(requested) == expected


@pytest.mark.parametrize(
    ("requested", "count", "message"),
    [
        ("cuda", 0, "DEVICE=cuda, but torch .* sees no CUDA device"),
        ("cuda:0", 0, "sees no CUDA device"),
        ("cuda:1", 1, r"DEVICE=cuda:1, but torch sees 1 CUDA device\(s\) \(cuda:0..cuda:0\)"),
        ("gpu", 1, "not one of auto, cpu, cuda, cuda:N"),
    ],
)
def test_a_cuda_device_torch_cannot_use_fails_the_load(gpus, requested, count, message):
    gpus(count)
    with pytest.raises(ModelLoadError, match=message):
        resolve_torch_device(requested)


def test_device_is_checked_and_normalised_when_the_settings_are_read():
    assert CoreSettings(device=" CUDA:1 ").device == "cuda:1"
    assert CoreSettings().device == "auto" and CoreSettings().half == "auto"
    assert CoreSettings(half="True").half == "true"
    with pytest.raises(ValidationError, match="DEVICE must be auto, cpu, cuda or cuda:N"):
        CoreSettings(device="gpu0")
    with pytest.raises(ValidationError):
        CoreSettings(half="yes")


@pytest.mark.parametrize(
    ("half", "device", "fp16"),
    [
        ("auto", "cuda:0", True),
        ("auto", "cpu", False),  # fp32 stays fp32 on the CPU
        ("true", "cuda:1", True),
        ("false", "cuda:0", False),
        ("false", "cpu", False),
    ],
)
def test_half_precision_decision(half, device, fp16):
    assert wants_half(half, device) is fp16


def test_half_true_on_the_cpu_fails_instead_of_being_ignored():
    with pytest.raises(ModelLoadError, match="HALF=true needs a CUDA device"):
        wants_half("true", "cpu")


def test_placement_says_what_auto_found(gpus):
    gpus(1)
    assert place_torch("auto", "auto") == Placement(
        "cuda:0", "torch", "fp16", "DEVICE=auto found CUDA, HALF=auto"
    )
    assert place_torch("cuda", "false").precision == "fp32"
    gpus(0)
    assert place_torch("auto", "auto") == Placement(
        "cpu", "torch", "fp32", "DEVICE=auto found no CUDA, HALF=auto"
    )


def test_cuda_index():
    assert [cuda_index(d) for d in ("auto", "cpu", "cuda", "cuda:3")] == [None, None, 0, 3]


def test_threads_are_pinned_on_the_cpu_and_left_alone_on_cuda(monkeypatch):
    cores = len(os.sched_getaffinity(0))
    assert cpu_threads(0, "cpu") == cores
    assert cpu_threads(3, "cpu") == 3
    assert cpu_threads(0, "cuda:0") is None  # no pool sized to every core for a model on the GPU
    assert cpu_threads(2, "cuda:0") == 2  # an explicit TORCH_THREADS is always applied

    calls = []
    monkeypatch.setattr(torch, "set_num_threads", calls.append)
    assert apply_torch_threads(0, "cuda:0") is None
    assert calls == []
    assert apply_torch_threads(0, "cpu") == cores
    assert calls == [cores]


def test_the_start_up_line_names_device_provider_precision_and_why(caplog):
    caplog.set_level(logging.INFO, logger="apis.runtimes")
    Placement("cuda:0", "torch", "fp16", "DEVICE=auto found CUDA, HALF=auto").log("depth", "da-v2-small")
    assert caplog.messages == [
        "depth: torch runs da-v2-small on cuda:0 (fp16); DEVICE=auto found CUDA, HALF=auto"
    ]
