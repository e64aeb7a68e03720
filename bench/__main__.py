"""``make bench``: this project's APIs against reference servers, side by side; writes bench/results/.

For each suite (each API on each backend) three servers run the same model file, one at a time,
their order alternated across repeats: this project (gunicorn + the serving core, shipped settings),
a minimal Flask app under gunicorn with 1 worker x 1 thread, and LitServe 0.2.19 with its defaults
(:mod:`bench.references`). Each gets closed-loop load of bus.jpg at 1, 4, 8 and 32 clients
(:mod:`bench.loadgen`; impolite clients, plus polite ones for this project at 8 and 32). Once per
suite this project's server also times photos of extreme shapes against bus.jpg and runs a soak of
mixed sizes (panoramas and a 40-megapixel photo) while its worker's memory is read.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.doc_blocks import write_blocks
from bench.harness import run_loadgen, server_rss_mb
from bench.report import render_markdown
from bench.shapes import distinct_copies
from bench.suites import EXTREME_SHAPES, MAIN_IMAGE, SUITES, Suite, shaped_photo, soak_photos
from tests.support.servers import VENV_BIN, free_port, gunicorn_command, run_server

RESULTS = Path(__file__).resolve().parent / "results"
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
LEVELS = (1, 4, 8, 32)
POLITE_LEVELS = (8, 32)


@dataclass(frozen=True)
class Plan:
    """How long each part runs: the default fits about 20 minutes on 2 cores, ``--quick`` 3."""

    window_s: dict[str, float]
    repeats: int
    soak_requests: dict[str, int]

    @classmethod
    def make(cls, quick: bool) -> Plan:
        if quick:
            return cls({"detection": 2, "depth": 4}, 1, {"detection": 14, "depth": 7})
        return cls({"detection": 5, "depth": 8}, 2, {"detection": 140, "depth": 14})


def server_command(name: str, suite: Suite, port: int) -> tuple[list[str], str, str]:
    """(command, health path, predict URL path) of server ``name`` for ``suite``."""
    if name == "objdepth":
        return gunicorn_command(suite.wsgi, port), suite.route.health_path, suite.endpoint
    if name == "flask-1x1":
        command = [str(VENV_BIN / "gunicorn"), "-w", "1", "--threads", "1", "-k", "sync", "--timeout", "300"]
        return (
            [*command, "--bind", f"127.0.0.1:{port}", "bench.references:flask_app()"],
            "/health",
            "/predict",
        )
    return [str(VENV_BIN / "python"), "-m", "bench.references", "--port", str(port)], "/health", "/predict"


SERVERS = ("objdepth", "flask-1x1", "litserve")


def load_levels(url: str, suite: Suite, window_s: float, *, polite_too: bool) -> dict[str, dict]:
    """Goodput and latency at each client count (and polite clients where asked)."""
    levels = {}
    for clients in LEVELS:
        levels[str(clients)] = run_loadgen(
            url, [MAIN_IMAGE], concurrency=clients, seconds=window_s, form=suite.form
        )
        if polite_too and clients in POLITE_LEVELS:
            levels[f"{clients}-polite"] = run_loadgen(
                url, [MAIN_IMAGE], concurrency=clients, seconds=window_s, polite=True, form=suite.form
            )
    return levels


def shapes_and_soak(url: str, pid: int, suite: Suite, plan: Plan, kind: str) -> dict:
    """Latency of extreme shapes against bus.jpg, then memory across a soak of mixed sizes."""
    photos = soak_photos()
    for photo in photos:  # warm-up: every size once, so growth below is not first-time caches
        run_loadgen(url, [photo], concurrency=1, seconds=600, requests=1, form=suite.form)
    rss_warm = server_rss_mb(pid)
    shapes = {}
    for name, path in [
        ("bus.jpg", MAIN_IMAGE),
        *((n, shaped_photo(n, s)) for n, s in EXTREME_SHAPES.items()),
    ]:
        copies = distinct_copies(path, 3)  # three different photos: no depth-cache hit
        shapes[name] = run_loadgen(url, copies, concurrency=1, seconds=600, requests=3, form=suite.form)[
            "p50_ms"
        ]
    soak = run_loadgen(
        url,
        photos,
        concurrency=2,
        seconds=1800,
        requests=plan.soak_requests[kind],
        polite=True,
        form=suite.form,
    )
    return {
        "shapes_p50_ms": shapes,
        "rss_after_warmup_mb": rss_warm,
        "soak": soak,
        "rss_after_soak_mb": server_rss_mb(pid),
    }


def bench_suite(suite: Suite, plan: Plan) -> dict:
    kind = suite.route.name
    runs: dict[str, list[dict]] = {name: [] for name in SERVERS}
    result: dict = {"suite": suite.name, "window_s": plan.window_s[kind], "repeats": plan.repeats}
    for repeat in range(plan.repeats):
        order = SERVERS[repeat % len(SERVERS) :] + SERVERS[: repeat % len(SERVERS)]
        for name in order:
            port = free_port()
            command, health, path = server_command(name, suite, port)
            env = {**suite.env, "BENCH_SERVICE": kind}
            print(f"[{suite.name}] repeat {repeat + 1}: {name}", flush=True)
            started = time.perf_counter()
            workdir = RESULTS / f".{suite.name}-{name}-server"
            with run_server(
                command, port=port, health_path=health, workdir=workdir, env=env, timeout_s=600
            ) as srv:
                startup_s = round(time.perf_counter() - started, 1)
                url = srv.url + path
                run_loadgen(url, [MAIN_IMAGE], concurrency=1, seconds=600, requests=3, form=suite.form)
                levels = load_levels(url, suite, plan.window_s[kind], polite_too=name == "objdepth")
                levels["startup_s"] = startup_s
                if name == "objdepth":
                    levels["rss_after_load_mb"] = server_rss_mb(srv.process.pid)
                    if repeat == 0:
                        result["objdepth_once"] = shapes_and_soak(url, srv.process.pid, suite, plan, kind)
                runs[name].append(levels)
    result["runs"] = runs
    return result


def machine() -> dict:
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": psutil.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--suite",
        action="append",
        choices=[*sorted(SUITES), "cuda"],
        help="default: all but cuda (bench/cuda.py: both models on a CUDA GPU, run alone)",
    )
    parser.add_argument("--quick", action="store_true", help="short windows, one repeat (about 3 minutes)")
    args = parser.parse_args()
    if args.suite and "cuda" in args.suite:
        from bench.cuda import main as cuda_main

        raise SystemExit(cuda_main(quick=args.quick))
    RESULTS.mkdir(exist_ok=True)
    plan = Plan.make(args.quick)
    started = time.perf_counter()
    info = machine()
    results: dict = {"machine": info, "quick": args.quick, "suites": []}
    for name in args.suite or list(SUITES):
        try:
            results["suites"].append(bench_suite(SUITES[name](), plan))
        except Exception as exc:  # one suite failing must not lose the others' measurements
            print(f"[{name}] failed: {exc}", flush=True)
            results.setdefault("failed", {})[name] = f"{type(exc).__name__}: {str(exc)[:500]}"
        info["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        info["minutes"] = round((time.perf_counter() - started) / 60, 1)
        # Written after every suite: an interrupted run still leaves what it measured.
        (RESULTS / "report.json").write_text(json.dumps(results, indent=2))
        (RESULTS / "report.md").write_text(render_markdown(results))
    write_blocks(results)  # README.md and docs/serving.md quote this run
    print(render_markdown(results))


if __name__ == "__main__":
    main()
