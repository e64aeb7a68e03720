"""Start servers for a benchmark, drive load from another process, read their memory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psutil

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_loadgen(
    url: str,
    images: list[Path],
    *,
    concurrency: int,
    seconds: float,
    requests: int | None = None,
    polite: bool = False,
    form: dict[str, str] | None = None,
) -> dict:
    """Run :mod:`bench.loadgen` in its own process and return its JSON summary."""
    args = [sys.executable, "-m", "bench.loadgen", "--url", url, "--concurrency", str(concurrency)]
    args += ["--seconds", str(seconds)]
    for image in images:
        args += ["--file", str(image)]
    if requests is not None:
        args += ["--requests", str(requests)]
    if polite:
        args.append("--polite")
    for key, value in (form or {}).items():
        args += ["--form", f"{key}={value}"]
    done = subprocess.run(
        args, cwd=REPO_ROOT, capture_output=True, text=True, timeout=seconds + 900, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def server_rss_mb(server_pid: int) -> float:
    """Resident memory (MB) of the largest process under the server (its worker, holding the model)."""
    try:
        server = psutil.Process(server_pid)
        processes = [server, *server.children(recursive=True)]
        return round(max(p.memory_info().rss for p in processes) / 2**20, 1)
    except psutil.NoSuchProcess:
        return 0.0
