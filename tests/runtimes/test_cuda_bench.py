"""The CUDA suites (bench/cuda.py) without a GPU: the refusal, the parity criteria, the targets."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

import bench.__main__ as bench_cli
from bench import cuda
from bench.cuda_parity import depth_parity, detection_parity
from bench.cuda_report import render_markdown, targets


@pytest.fixture()
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_without_cuda_the_suite_exits_at_once_with_one_line(no_cuda, capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(cuda, "RESULTS", tmp_path)
    monkeypatch.setattr(sys, "argv", ["bench", "--suite", "cuda", "--quick"])
    with pytest.raises(SystemExit) as stopped:
        bench_cli.main()
    assert stopped.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("bench --suite cuda: no CUDA device: torch ")
    assert list(tmp_path.iterdir()) == []  # nothing measured, nothing written


def box(x1: float, confidence: float = 0.8, class_id: int = 0) -> dict:
    return {
        "class_id": class_id,
        "confidence": confidence,
        "bbox": {"x1": x1, "y1": 0.0, "x2": x1 + 100.0, "y2": 100.0},
    }


def test_detection_parity_needs_the_same_boxes_classes_and_confidences():
    reference = [box(0), box(300), box(600, class_id=2)]
    assert detection_parity(reference, [box(1), box(300, 0.81), box(600, class_id=2)])["parity"]
    moved = detection_parity(reference, [box(20), box(300), box(600, class_id=2)])  # IoU 0.67
    assert (moved["matched_share"], moved["parity"]) == (0.6667, False)
    assert not detection_parity(reference, [box(0), box(300, 0.7), box(600, class_id=2)])["parity"]
    assert not detection_parity(reference, [box(0), box(300), box(600, class_id=1)])["parity"]
    assert not detection_parity(reference, [*reference, box(900)])["parity"]  # one box more


def test_depth_parity_is_judged_against_the_reference_range():
    reference = np.linspace(0, 10, 10_000, dtype=np.float32).reshape(100, 100)
    near = reference + np.random.default_rng(0).normal(0, 0.01, reference.shape).astype(np.float32)
    assert depth_parity(reference, near)["parity"]
    spiked = reference.copy()
    spiked[50, 50] += 1.0  # one pixel 10 % of the range off
    result = depth_parity(reference, spiked)
    assert (result["max_share"], result["parity"]) == (0.1, False)


def levels(value_key: str, values: dict[str, float], p50: dict[str, float]) -> dict:
    return {
        level: {value_key: values[level], "p50_ms": p50[level], "p99_ms": p50[level] * 2, "requests": 10}
        | (
            {"goodput_rps": values[level], "shed_pct": 0.0, "other_errors": 0}
            if value_key == "goodput_rps"
            else {}
        )
        for level in values
    }


def suite(kind: str, inside: dict, http: dict, device: str = "cuda:0") -> dict:
    placement = {"device": device, "provider": "torch", "precision": "fp16"}
    return {
        "suite": kind,
        "kind": kind,
        "backend": "torch",
        "window_s": 4.0,
        "in_process": {
            "levels": levels("throughput_rps", *inside),
            "placement": placement,
            "torch_max_allocated_mib": 180.0,
            "nvidia_smi_process_mib": 600.0,
        },
        "http": {
            "levels": levels("goodput_rps", *http),
            "placement": placement,
            "nvidia_smi_server_mib": 700.0,
        },
    }


def test_the_targets_are_ratios_of_the_same_run():
    steady = ({"1": 40.0, "4": 40.0, "8": 40.0}, {"1": 25.0, "4": 100.0, "8": 200.0})
    depth = suite("depth", steady, ({"1": 38.0, "4": 39.0, "8": 39.0}, {"1": 26.0, "4": 100.0, "8": 200.0}))
    assert targets(depth)[0] == ("p50 over HTTP / in process, 1 client ≤ 1.1", 1.04, True)
    slow = suite("depth", steady, ({"1": 30.0, "4": 39.0, "8": 39.0}, {"1": 30.0, "4": 100.0, "8": 200.0}))
    assert targets(slow)[0][1:] == (1.2, False)
    detection = suite(
        "detection", steady, ({"1": 38.0, "4": 36.0, "8": 35.0}, {"1": 26.0, "4": 110.0, "8": 220.0})
    )
    assert targets(detection)[0] == ("goodput over HTTP / in process, 8 clients ≥ 0.9", 0.875, False)
    on_cpu = suite("detection", steady, steady, device="cpu")
    assert ("server runs on the GPU (cpu, torch)", None, False) in targets(on_cpu)


def test_the_report_names_the_gpu_and_every_suite():
    steady = ({"1": 40.0, "4": 40.0, "8": 40.0}, {"1": 25.0, "4": 100.0, "8": 200.0})
    machine = {
        "gpu": "NVIDIA H200",
        "gpus_visible": 1,
        "gpu_memory_mib": 143771.0,
        "driver": "570.1",
        "cpu_cores": 16,
        "torch": "2.14.1",
        "torch_cuda": "13.0",
        "onnxruntime": "1.31.1",
        "python": "3.11.7",
        "date": "2026-12-02 04:00 UTC",
        "minutes": 6.0,
    }
    results = {
        "machine": machine,
        "quick": True,
        "suites": [suite("detection", steady, steady), suite("depth", steady, steady)],
        "skipped": {
            "depth-onnx": "onnxruntime 1.31.1 has no CUDA provider (install onnxruntime-gpu instead)"
        },
        "failed": {},
    }
    report = render_markdown(results)
    assert report.startswith("# CUDA benchmark: NVIDIA H200")
    assert "## detection" in report and "## depth" in report and "**depth-onnx skipped**" in report
    assert cuda.slug(machine["gpu"]) == "nvidia-h200"
