"""ONNX Runtime's provider choice and its clean fallback to the CPU (onnxruntime's CUDA list mocked)."""

from __future__ import annotations

import logging
import os
from typing import ClassVar

import numpy as np
import onnxruntime
import pytest

from apis.core.errors import ModelLoadError
from apis.runtimes import onnx_session
from apis.runtimes.onnx_session import CPU, CUDA, open_session

pytestmark = pytest.mark.filterwarnings("ignore:Specified provider 'CUDAExecutionProvider':UserWarning")


@pytest.fixture()
def cuda_listed(monkeypatch):
    """This (CPU-only) onnxruntime claims a CUDA provider: sessions asking for it fall back on their own."""
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: [CUDA, CPU])


def spinning(options) -> str | None:
    """The session's ``allow_spinning`` entry, None when left at ONNX Runtime's default (spin)."""
    try:
        return options.get_session_config_entry("session.intra_op.allow_spinning")
    except RuntimeError:  # onnxruntime's answer for an entry never set
        return None


class CudaSession:
    """Stands in for an InferenceSession on which the CUDA provider started; records what it was given."""

    opened: ClassVar[list] = []

    def __init__(self, path, options, providers):
        self.options = options
        self.providers = providers
        CudaSession.opened.append(self)

    def get_providers(self):
        return [CUDA, CPU]


def test_the_cpu_build_runs_on_the_cpu_with_one_thread_per_core(relu_onnx):
    session, placement = open_session(relu_onnx, device="auto")
    assert session.get_providers() == [CPU]
    assert (placement.device, placement.provider, placement.precision) == ("cpu", CPU, "fp32")
    assert placement.reason == "DEVICE=auto: this onnxruntime has no CUDA provider"
    assert session.get_session_options().intra_op_num_threads == len(os.sched_getaffinity(0))
    batch = np.full((1, 3, 4, 4), -1.0, np.float32)
    assert session.run(None, {"images": batch})[0].max() == 0.0


def test_the_cpu_session_does_not_spin_its_idle_threads_and_keeps_the_threads_asked_for(relu_onnx):
    session, placement = open_session(relu_onnx, device="cpu", threads=2)
    options = session.get_session_options()
    assert spinning(options) == "0"  # spinning threads took the cores from the request threads
    assert options.intra_op_num_threads == 2
    assert placement.device == "cpu"
    batch = np.array([-1.0, 2.0], np.float32).reshape(1, 1, 1, 2).repeat(3, axis=1)
    assert session.run(None, {"images": batch})[0].tolist() == [[[[0.0, 2.0]]] * 3]


def test_cuda_without_the_provider_fails_the_load(relu_onnx):
    with pytest.raises(ModelLoadError, match="DEVICE=cuda:0, but this onnxruntime has no CUDA provider"):
        open_session(relu_onnx, device="cuda:0")


def test_a_listed_cuda_provider_that_does_not_start_falls_back_to_a_clean_cpu_session(
    relu_onnx, cuda_listed, caplog
):
    session, placement = open_session(relu_onnx, device="auto", threads=2)
    assert session.get_providers() == [CPU]
    assert (placement.device, placement.provider) == ("cpu", CPU)
    assert placement.reason.startswith(
        "DEVICE=auto: the CUDA provider is listed but did not start; running on"
    )
    # The CPU session is a new one, configured for the CPU: the threads asked for, no spinning (as on CPU).
    options = session.get_session_options()
    assert options.intra_op_num_threads == 2
    assert spinning(options) == "0"

    caplog.set_level(logging.INFO, logger="apis.runtimes")
    placement.log("detection", relu_onnx.name)
    assert caplog.messages == [
        f"detection: {CPU} runs relu.onnx on cpu (fp32); DEVICE=auto: the CUDA provider is listed but did "
        f"not start; running on the CPU ({onnx_session.CUDA_HELP})"
    ]


@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
def test_an_explicit_cuda_device_whose_provider_does_not_start_fails_the_load(relu_onnx, cuda_listed, device):
    with pytest.raises(
        ModelLoadError, match=f"DEVICE={device}, but the CUDA provider is listed but did not start"
    ):
        open_session(relu_onnx, device=device)


def test_a_session_that_raises_on_cuda_is_retried_on_the_cpu_under_auto(relu_onnx, cuda_listed, monkeypatch):
    real = onnxruntime.InferenceSession

    def session(path, options, providers):
        if providers[0] != CPU:
            raise RuntimeError("CUDA_ERROR_NO_DEVICE")
        return real(path, options, providers=providers)

    monkeypatch.setattr(onnxruntime, "InferenceSession", session)
    _, placement = open_session(relu_onnx, device="auto")
    assert placement.device == "cpu" and "CUDA_ERROR_NO_DEVICE" in placement.reason


def test_a_started_cuda_provider_runs_the_model_on_the_asked_device_without_cpu_pinning(
    relu_onnx, cuda_listed, monkeypatch
):
    monkeypatch.setattr(onnxruntime, "InferenceSession", CudaSession)
    CudaSession.opened.clear()
    session, placement = open_session(relu_onnx, device="cuda:1")
    assert session.providers == [(CUDA, {"device_id": 1}), CPU]
    assert (placement.device, placement.provider) == ("cuda:1", CUDA)
    assert placement.reason == "DEVICE=cuda:1: the CUDA provider started"
    assert session.options.intra_op_num_threads == 0  # ONNX Runtime's own default: nothing pinned
    assert spinning(session.options) == "0"

    _, placement = open_session(relu_onnx, device="auto", threads=3)
    assert (placement.device, placement.reason) == ("cuda:0", "DEVICE=auto: found the CUDA provider")
    assert CudaSession.opened[-1].options.intra_op_num_threads == 3
