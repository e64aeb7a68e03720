"""A bounded HTTP load generator, run as its own process so it does not share the server's GIL.

``python -m bench.loadgen --url URL --file bus.jpg --concurrency 4 --requests 200 --max-seconds 60``
prints one JSON object: latency percentiles, throughput and a count per status code.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import requests


def run_load(
    url: str,
    payload: bytes,
    *,
    field: str,
    fields: dict[str, str],
    concurrency: int,
    total: int,
    max_seconds: float,
    timeout_s: float = 60.0,
) -> dict:
    """Send ``total`` requests from ``concurrency`` threads (stops early after ``max_seconds``)."""
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    issued = 0
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        nonlocal issued
        session = requests.Session()
        while True:
            with lock:
                if issued >= total or time.monotonic() > deadline:
                    return
                issued += 1
            started = time.perf_counter()
            try:
                response = session.post(
                    url, files={field: ("image.jpg", payload)}, data=fields, timeout=timeout_s
                )
                status = str(response.status_code)
            except requests.RequestException as exc:
                status = type(exc).__name__
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[status] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max_seconds + timeout_s)
    wall = time.perf_counter() - started
    ms = np.asarray(latencies) * 1000
    ok = statuses.get("200", 0)
    return {
        "concurrency": concurrency,
        "requests": len(latencies),
        "seconds": round(wall, 2),
        "throughput_rps": round(ok / wall, 2) if wall else 0.0,
        "p50_ms": round(float(np.percentile(ms, 50)), 1) if len(ms) else None,
        "p95_ms": round(float(np.percentile(ms, 95)), 1) if len(ms) else None,
        "p99_ms": round(float(np.percentile(ms, 99)), 1) if len(ms) else None,
        "statuses": dict(statuses),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--file", type=Path, required=True)
    parser.add_argument("--field", default="image")
    parser.add_argument("--form", action="append", default=[], help="extra form field name=value")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    args = parser.parse_args()
    host = requests.utils.urlparse(args.url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("load is only ever sent to this machine (127.0.0.1)")
    fields = dict(item.split("=", 1) for item in args.form)
    print(
        json.dumps(
            run_load(
                args.url,
                args.file.read_bytes(),
                field=args.field,
                fields=fields,
                concurrency=args.concurrency,
                total=args.requests,
                max_seconds=args.max_seconds,
            )
        )
    )


if __name__ == "__main__":
    main()
