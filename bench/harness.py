"""Start a real API server for a benchmark, drive load from another process, read its memory."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psutil

REPO_ROOT = Path(__file__).resolve().parents[1]


def percentiles_ms(samples_s: list[float]) -> dict[str, float]:
    """p50/p95/p99 in milliseconds of durations in seconds."""
    ms = np.asarray(samples_s) * 1000
    return {f"p{q}_ms": round(float(np.percentile(ms, q)), 1) for q in (50, 95, 99)}


def time_calls(call: Callable[[], object], *, repeats: int, warmup: int = 3) -> list[float]:
    """Durations (seconds) of ``repeats`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        call()
    durations = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        durations.append(time.perf_counter() - started)
    return durations


def run_loadgen(
    url: str,
    image: Path,
    *,
    concurrency: int,
    requests: int,
    max_seconds: float,
    form: dict[str, str] | None = None,
) -> dict:
    """Run :mod:`bench.loadgen` in its own process and return its JSON summary."""
    args = [
        sys.executable,
        "-m",
        "bench.loadgen",
        "--url",
        url,
        "--file",
        str(image),
        "--concurrency",
        str(concurrency),
        "--requests",
        str(requests),
        "--max-seconds",
        str(max_seconds),
    ]
    for key, value in (form or {}).items():
        args += ["--form", f"{key}={value}"]
    done = subprocess.run(
        args, cwd=REPO_ROOT, capture_output=True, text=True, timeout=max_seconds + 120, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def worker_rss_mb(server_pid: int) -> dict[int, float]:
    """Resident memory (MB) of every gunicorn worker under the server process."""
    try:
        children = psutil.Process(server_pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return {}
    return {child.pid: round(child.memory_info().rss / 2**20, 1) for child in children}


class RssSampler:
    """Keeps the peak RSS of the workers seen across :meth:`sample` calls."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.peak_mb = 0.0

    def sample(self) -> float:
        total = max(worker_rss_mb(self.server_pid).values(), default=0.0)
        self.peak_mb = max(self.peak_mb, total)
        return total


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
