"""``make bench``: every suite in one go; writes bench/results/report.md and report.json."""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from pathlib import Path

import psutil

from bench.harness import RssSampler, percentiles_ms, run_loadgen, time_calls, worker_rss_mb
from bench.report import render_markdown
from bench.suites import MAIN_IMAGE, MIXED_IMAGES, SUITES, Suite
from tests.support.servers import free_port, gunicorn_command, run_server

RESULTS = Path(__file__).resolve().parent / "results"
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def bench_suite(suite: Suite, *, quick: bool, soak: int | None) -> dict:
    """In-process latency, then HTTP latency/throughput/overload/memory against gunicorn."""
    print(f"[{suite.name}] in-process", flush=True)
    predict = suite.load_inprocess()
    inprocess = time_calls(predict, repeats=10 if quick else 40)
    in_stats = percentiles_ms(inprocess)
    in_stats["throughput_rps"] = round(len(inprocess) / sum(inprocess), 2)
    del predict

    port = free_port()
    url = f"http://127.0.0.1:{port}{suite.endpoint}"
    workdir = RESULTS / f".{suite.name}-server"
    started = time.perf_counter()
    with run_server(
        gunicorn_command(suite.wsgi, port),
        port=port,
        health_path=suite.route.health_path,
        workdir=workdir,
        env=suite.env,
        timeout_s=600,
    ) as server:
        startup_s = round(time.perf_counter() - started, 2)
        rss = RssSampler(server.process.pid)
        load = {}
        for concurrency in (1, 2, 4, 8):
            print(f"[{suite.name}] http concurrency {concurrency}", flush=True)
            count = (8 if quick else 40) if concurrency == 1 else (8 if quick else 20) * concurrency
            load[concurrency] = run_loadgen(
                url, MAIN_IMAGE, concurrency=concurrency, requests=count, max_seconds=120, form=suite.form
            )
            rss.sample()
        print(f"[{suite.name}] overload", flush=True)
        overload = run_loadgen(
            url, MAIN_IMAGE, concurrency=32, requests=8 if quick else 128, max_seconds=120, form=suite.form
        )
        # Warm-up covers every image size of the soak, so growth measures leaks, not first-time caches.
        for image in MIXED_IMAGES:
            run_loadgen(
                url, image, concurrency=2, requests=10 if quick else 25, max_seconds=600, form=suite.form
            )
        rss_after_warmup = rss.sample()
        soak_total = soak if soak is not None else (40 if quick else suite.soak_requests)
        rounds = max(1, math.ceil(soak_total / (len(MIXED_IMAGES) * 25)))
        print(
            f"[{suite.name}] memory soak: {rounds * len(MIXED_IMAGES) * 25} requests of mixed sizes",
            flush=True,
        )
        soak_statuses: dict[str, int] = {}
        for index, image in enumerate(MIXED_IMAGES * rounds):
            result = run_loadgen(url, image, concurrency=2, requests=25, max_seconds=600, form=suite.form)
            for status, n in result["statuses"].items():
                soak_statuses[status] = soak_statuses.get(status, 0) + n
            if index % 4 == 3:
                rss.sample()
        rss_after_soak = rss.sample()
        workers = worker_rss_mb(server.process.pid)

    http1 = load[1]
    return {
        "suite": suite.name,
        "inprocess": in_stats,
        "startup_to_healthy_s": startup_s,
        "http": {str(c): r for c, r in load.items()},
        "overload": overload,
        "rss_mb": {
            "peak_per_worker": rss.peak_mb,
            "after_warmup": rss_after_warmup,
            "after_soak": rss_after_soak,
            "workers": len(workers) or 1,
            "soak_requests": sum(soak_statuses.values()),
            "growth_pct": round((rss_after_soak - rss_after_warmup) / rss_after_warmup * 100, 2)
            if rss_after_warmup
            else None,
        },
        "soak_statuses": soak_statuses,
        "ratios": {
            "http_p50_over_inprocess_p50": round(http1["p50_ms"] / in_stats["p50_ms"], 3),
            "c4_throughput_over_inprocess": round(load[4]["throughput_rps"] / in_stats["throughput_rps"], 3),
        },
    }


def machine() -> dict:
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": psutil.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--suite", action="append", choices=sorted(SUITES), help="default: all")
    parser.add_argument("--quick", action="store_true", help="a few requests each, to check the harness")
    parser.add_argument("--soak", type=int, help="requests of the memory soak (default per suite)")
    parser.add_argument(
        "--merge", action="store_true", help="keep the other suites of the last report.json (rerun only some)"
    )
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    names = args.suite or list(SUITES)
    fresh = {name: bench_suite(SUITES[name](), quick=args.quick, soak=args.soak) for name in names}
    previous = []
    if args.merge and (RESULTS / "report.json").exists():
        previous = json.loads((RESULTS / "report.json").read_text())["suites"]
    kept = {s["suite"]: s for s in previous if s["suite"] not in fresh}
    ordered = [fresh.get(name) or kept.get(name) for name in SUITES if name in fresh or name in kept]
    results = {"machine": machine(), "suites": ordered}
    (RESULTS / "report.json").write_text(json.dumps(results, indent=2))
    (RESULTS / "report.md").write_text(render_markdown(results))
    print(render_markdown(results))


if __name__ == "__main__":
    main()
