"""``python -m bench --suite cuda``: both models on a CUDA GPU (torch, onnxruntime-gpu), in process and HTTP.

For each model (YOLO11n and Depth Anything V2 Small at full size with random weights, bus.jpg) on
each backend (torch with the shipped ``HALF=auto``, i.e. fp16 on CUDA; ONNX Runtime's CUDA provider on
the fp32 export):

- **in process**: the model loaded here with ``DEVICE=cuda``, called from 1, 4 and 8 threads that each
  decode bus.jpg and take turns on the model (one lock, like the service's gate): the most a server
  around this model could do;
- **over HTTP**: the project's gunicorn server (shipped settings, ``DEVICE=cuda``) under closed-loop
  load of 1, 4 and 8 clients (:mod:`bench.loadgen`, in its own process);
- **GPU memory**: ``torch.cuda.max_memory_allocated`` in process (torch only; ONNX Runtime has its own
  allocator) and what nvidia-smi reports for this process and for the server's worker;
- **parity** (torch): fp16 against fp32, and CUDA fp32 against the CPU, on the test photos
  (criteria in :mod:`bench.cuda_parity`).

The report, ``bench/results/gpu-<gpu name>.md`` and ``.json``, evaluates the targets: depth p50 over
HTTP ≤ 1.10 × in process at 1 client; detection goodput over HTTP at 8 clients ≥ 0.9 × the in-process
throughput at 8 threads. Without a usable CUDA device it exits at once, status 2, with one line.
"""

from __future__ import annotations

import gc
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import requests

from bench.cuda_parity import depth_parity, detection_parity
from bench.harness import run_loadgen
from bench.suites import MAIN_IMAGE, MIXED_IMAGES, Suite, decode_main_image, depth_suite, detection_suite

RESULTS = Path(__file__).resolve().parent / "results"
os.environ.setdefault("YOLO_OFFLINE", "1")  # the servers inherit it: no DNS probes from ultralytics
os.environ.setdefault("HF_HUB_OFFLINE", "1")
CLIENTS = (1, 4, 8)
BACKENDS = ("torch", "onnx")
#: Seconds per load level (in process and over HTTP) for detection and depth; ``--quick`` halves them.
WINDOW_S = {"detection": 8.0, "depth": 10.0}


def cuda_missing() -> str | None:
    """Why the CUDA suite cannot run here, in one line; None when torch can use a CUDA device."""
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    if not torch.cuda.is_available():
        return (
            f"no CUDA device: torch {torch.__version__} (CUDA build: {torch.version.cuda or 'none'}) sees "
            "none; run it on a machine with an NVIDIA GPU and driver (bench/gpu_device_check.sh)"
        )
    return None


def onnx_cuda_missing() -> str | None:
    """Why the onnx backend cannot run on CUDA here; None when onnxruntime lists the CUDA provider."""
    try:
        import onnxruntime
    except ImportError:
        return "onnxruntime is not installed"
    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        return f"onnxruntime {onnxruntime.__version__} has no CUDA provider (install onnxruntime-gpu instead)"
    return None


def slug(text: str) -> str:
    """``NVIDIA H100 80GB HBM3`` -> ``nvidia-h100-80gb-hbm3``: the report's file name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def nvidia_smi(*query: str) -> list[list[str]]:
    """Rows of an nvidia-smi CSV query (``--query-gpu=...``, ``--query-compute-apps=...``); [] without it."""
    try:
        done = subprocess.run(
            ["nvidia-smi", *query, "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return [[cell.strip() for cell in line.split(",")] for line in done.stdout.strip().splitlines() if line]


def process_gpu_mib(pids: set[int]) -> float | None:
    """GPU memory nvidia-smi counts for these processes (MiB); None when it lists none of them."""
    used = [
        float(row[1]) for row in nvidia_smi("--query-compute-apps=pid,used_memory") if int(row[0]) in pids
    ]
    return sum(used) if used else None


def tree_pids(pid: int) -> set[int]:
    """The process and its children (a gunicorn master and its worker)."""
    import psutil

    try:
        return {pid, *(child.pid for child in psutil.Process(pid).children(recursive=True))}
    except psutil.NoSuchProcess:
        return {pid}


def load_model(suite: Suite, device: str, half: str) -> tuple[object, Callable[[object], object]]:
    """The suite's model loaded in this process on ``device``, and a call of one prediction on an image."""
    kind = suite.route.name
    values = {key.removeprefix(f"{kind.upper()}_").lower(): value for key, value in suite.env.items()}
    if kind == "detection":
        from apis.detection.backends import create_detector
        from apis.detection.settings import DetectionSettings

        detector = create_detector(DetectionSettings(**values), device=device, half=half)
        detector.load()
        params = detector.default_params()
        return detector, lambda image: detector.predict(image, params)
    from apis.depth.backends import create_estimator
    from apis.depth.settings import DepthSettings

    estimator = create_estimator(DepthSettings(**values), device=device, half=half)
    estimator.load()
    return estimator, estimator.predict


def _percentile_ms(samples: list[float], q: float) -> float | None:
    return round(float(np.percentile(np.asarray(samples) * 1000, q)), 2) if samples else None


def run_threads(predict: Callable[[object], object], clients: int, window_s: float) -> dict:
    """``clients`` threads, each decoding bus.jpg and then taking its turn on the model, for ``window_s``."""
    turn = threading.Lock()
    latencies: list[float] = []
    deadline = time.perf_counter() + window_s

    def client() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            image = decode_main_image()
            with turn:
                predict(image)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "throughput_rps": round(len(latencies) / wall, 2),
        "p50_ms": _percentile_ms(latencies, 50),
        "p99_ms": _percentile_ms(latencies, 99),
    }


def in_process(suite: Suite, half: str, window_s: float, device: str = "cuda") -> dict:
    """Load on CUDA here, warm up, run 1/4/8 threads; GPU memory; then free the GPU for the server."""
    import torch

    on_gpu = device.startswith("cuda")
    if on_gpu:
        torch.cuda.reset_peak_memory_stats()
    model, predict = load_model(suite, device, half)
    for _ in range(5):
        predict(decode_main_image())
    levels = {str(clients): run_threads(predict, clients, window_s) for clients in CLIENTS}
    placement = model.placement
    result = {
        "levels": levels,
        "placement": {
            "device": placement.device,
            "provider": placement.provider,
            "precision": placement.precision,
        },
        "torch_max_allocated_mib": round(torch.cuda.max_memory_allocated() / 2**20, 1) if on_gpu else None,
        "nvidia_smi_process_mib": process_gpu_mib({os.getpid()}),
    }
    del model, predict
    free_memory()
    return result


def over_http(suite: Suite, half: str, window_s: float, device: str = "cuda") -> dict:
    """The project's gunicorn server on CUDA under 1/4/8 closed-loop clients; its placement and GPU memory."""
    from tests.support.servers import free_port, gunicorn_command, run_server

    port = free_port()
    env = {**suite.env, "DEVICE": device, "HALF": half}
    workdir = RESULTS / f".cuda-{suite.name}-server"
    command = gunicorn_command(suite.wsgi, port)
    with run_server(
        command, port=port, health_path=suite.route.health_path, workdir=workdir, env=env, timeout_s=600
    ) as server:
        info = requests.get(f"{server.url}{suite.route.path_prefix}/model-info", timeout=30).json()
        url = server.url + suite.endpoint
        run_loadgen(url, [MAIN_IMAGE], concurrency=1, seconds=600, requests=5, form=suite.form)
        levels = {
            str(clients): run_loadgen(
                url, [MAIN_IMAGE], concurrency=clients, seconds=window_s, form=suite.form
            )
            for clients in CLIENTS
        }
        memory = process_gpu_mib(tree_pids(server.process.pid))
    placement = {key: info.get(key) for key in ("device", "provider", "precision")}
    return {"levels": levels, "placement": placement, "nvidia_smi_server_mib": memory}


def free_memory() -> None:
    """Give a deleted model's GPU memory back before the next one loads."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def parity(suite: Suite) -> dict:
    """The torch backend on the test photos: fp16 against fp32 on CUDA, and CUDA fp32 against the CPU."""
    from apis.core.images import decode_image

    photos = {
        path.name: decode_image(path.read_bytes(), max_bytes=2**26, max_pixels=10**9).image
        for path in MIXED_IMAGES
    }
    answers: dict[str, dict] = {}
    for name, device, half in (
        ("cuda-fp32", "cuda", "false"),
        ("cuda-fp16", "cuda", "true"),
        ("cpu-fp32", "cpu", "false"),
    ):
        model, predict = load_model(suite, device, half)
        answers[name] = {photo: predict(image) for photo, image in photos.items()}
        del model, predict
        free_memory()

    def compare(reference: dict, other: dict) -> dict:
        if suite.route.name == "detection":
            return {
                photo: detection_parity(
                    [d.to_dict() for d in reference[photo].detections],
                    [d.to_dict() for d in other[photo].detections],
                )
                for photo in reference
            }
        return {photo: depth_parity(reference[photo].depth, other[photo].depth) for photo in reference}

    return {
        "fp16_vs_fp32": compare(answers["cuda-fp32"], answers["cuda-fp16"]),
        "cuda_vs_cpu_fp32": compare(answers["cpu-fp32"], answers["cuda-fp32"]),
    }


def machine() -> dict:
    """The GPU, its driver and the runtimes' versions."""
    import torch

    gpu = nvidia_smi("--query-gpu=name,driver_version,memory.total")
    info = {
        "gpu": torch.cuda.get_device_name(0),
        "gpus_visible": torch.cuda.device_count(),
        "driver": gpu[0][1] if gpu else None,
        "gpu_memory_mib": float(gpu[0][2]) if gpu else None,
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "python": sys.version.split()[0],
        "cpu_cores": len(os.sched_getaffinity(0)),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    try:
        import onnxruntime

        info["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        info["onnxruntime"] = None
    return info


def write_report(results: dict) -> Path:
    """``bench/results/gpu-<gpu name>.json`` and ``.md`` as measured so far; the Markdown's path."""
    import json

    from bench.cuda_report import render_markdown

    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"gpu-{slug(results['machine']['gpu'])}"
    stem.with_suffix(".json").write_text(json.dumps(results, indent=2, default=str))
    stem.with_suffix(".md").write_text(render_markdown(results))
    return stem.with_suffix(".md")


def run_suites(quick: bool) -> dict:
    """Every model on every backend it can run here; a failing suite is recorded, not fatal.

    The report is rewritten after every suite: a run stopped by a time limit keeps what it measured.
    """
    factor = 0.5 if quick else 1.0
    started = time.perf_counter()
    results: dict = {"machine": machine(), "quick": quick, "suites": [], "skipped": {}, "failed": {}}
    onnx_problem = onnx_cuda_missing()
    for kind, make in (("detection", detection_suite), ("depth", depth_suite)):
        for backend in BACKENDS:
            name = kind if backend == "torch" else f"{kind}-{backend}"
            if backend == "onnx" and onnx_problem:
                results["skipped"][name] = onnx_problem
                continue
            print(f"[cuda] {name}", flush=True)
            try:
                suite = make(backend)
                window_s = WINDOW_S[kind] * factor
                entry = {"suite": name, "kind": kind, "backend": backend, "window_s": window_s}
                entry["in_process"] = in_process(suite, "auto", window_s)
                entry["http"] = over_http(suite, "auto", window_s)
                if backend == "torch":
                    entry["parity"] = parity(suite)
                results["suites"].append(entry)
            except Exception as exc:  # one suite failing must not lose the others' measurements
                print(f"[cuda] {name} failed: {exc}", flush=True)
                results["failed"][name] = f"{type(exc).__name__}: {str(exc)[:800]}"
            results["machine"]["minutes"] = round((time.perf_counter() - started) / 60, 1)
            write_report(results)
    return results


def main(quick: bool = False) -> int:
    """Run the CUDA suites and write the report; 2 with one line on stderr when there is no CUDA."""
    problem = cuda_missing()
    if problem:
        print(f"bench --suite cuda: {problem}", file=sys.stderr)
        return 2
    results = run_suites(quick)
    print(write_report(results).read_text())
    return 0 if not results["failed"] else 1
