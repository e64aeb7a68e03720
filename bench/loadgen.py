"""A bounded HTTP load generator, run as its own process so it does not share the server's GIL.

``python -m bench.loadgen --url URL --file bus.jpg --concurrency 4 --seconds 10 [--polite]`` runs a
closed loop of ``concurrency`` clients for ``seconds`` and prints one JSON object: goodput (answers
200 per second of wall time), latency of the admitted requests and of all answers, and a count per
status. An impolite client sends its next request at once after a 503; a polite one honours
``Retry-After`` (at most ``--retries`` times, within ``--budget`` seconds per request). Latencies of
admitted requests are the server's (the attempt that got the 200); ``p99_waited_ms`` also counts
the back-offs, from the first try: what a person waits.
"""

from __future__ import annotations

import argparse
import itertools
import json
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import requests


def _percentile_ms(samples_s: list[float], q: float) -> float | None:
    return round(float(np.percentile(np.asarray(samples_s) * 1000, q)), 1) if samples_s else None


def run_load(
    url: str,
    payloads: list[bytes],
    *,
    field: str = "image",
    fields: dict[str, str] | None = None,
    concurrency: int,
    seconds: float,
    total: int | None = None,
    polite: bool = False,
    retries: int = 3,
    budget_s: float = 30.0,
    timeout_s: float = 120.0,
) -> dict:
    """Closed-loop load from ``concurrency`` threads for ``seconds`` (or ``total`` requests)."""
    admitted: list[float] = []  # the admitted attempt alone: time the server took
    waited: list[float] = []  # first try to the 200, back-offs included: what a person waits
    answered: list[float] = []
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    order = itertools.cycle(range(len(payloads)))
    issued = 0
    retried = 0
    deadline = time.monotonic() + seconds

    def one_request(session: requests.Session, payload: bytes) -> str:
        nonlocal retried
        started = time.perf_counter()
        for attempt in range(retries + 1):
            attempt_started = time.perf_counter()
            try:
                response = session.post(
                    url, files={field: ("image.jpg", payload)}, data=fields or {}, timeout=timeout_s
                )
                status = str(response.status_code)
            except requests.RequestException as exc:
                status = type(exc).__name__
                break
            if not (polite and status == "503" and attempt < retries):
                break
            pause = float(response.headers.get("Retry-After", "1"))
            if time.perf_counter() - started + pause > budget_s:
                break
            with lock:
                retried += 1
            time.sleep(pause)
        finished = time.perf_counter()
        with lock:
            answered.append(finished - attempt_started)
            statuses[status] += 1
            if status == "200":
                admitted.append(finished - attempt_started)
                waited.append(finished - started)
        return status

    def worker() -> None:
        nonlocal issued
        session = requests.Session()
        while True:
            with lock:
                if (total is not None and issued >= total) or time.monotonic() > deadline:
                    return
                issued += 1
                payload = payloads[next(order)]
            one_request(session, payload)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + budget_s + timeout_s)
    wall = time.perf_counter() - started
    ok = statuses.get("200", 0)
    other_errors = sum(n for status, n in statuses.items() if status != "200" and status != "503")
    return {
        "concurrency": concurrency,
        "polite": polite,
        "requests": len(answered),
        "seconds": round(wall, 2),
        "goodput_rps": round(ok / wall, 2) if wall else 0.0,
        "p50_ms": _percentile_ms(admitted, 50),
        "p99_ms": _percentile_ms(admitted, 99),
        "p99_all_ms": _percentile_ms(answered, 99),
        "p99_waited_ms": _percentile_ms(waited, 99),
        "shed_pct": round(100 * statuses.get("503", 0) / len(answered), 1) if answered else 0.0,
        "other_errors": other_errors,
        "retries": retried,
        "statuses": dict(statuses),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--file", type=Path, action="append", required=True, help="sent in turn")
    parser.add_argument("--field", default="image")
    parser.add_argument("--form", action="append", default=[], help="extra form field name=value")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--requests", type=int, help="stop after this many requests")
    parser.add_argument("--polite", action="store_true", help="honour Retry-After on 503")
    parser.add_argument("--retries", type=int, default=3)
    parser.add_argument("--budget", type=float, default=30.0, help="seconds a polite request may take")
    args = parser.parse_args()
    host = requests.utils.urlparse(args.url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("load is only ever sent to this machine (127.0.0.1)")
    result = run_load(
        args.url,
        [path.read_bytes() for path in args.file],
        field=args.field,
        fields=dict(item.split("=", 1) for item in args.form),
        concurrency=args.concurrency,
        seconds=args.seconds,
        total=args.requests,
        polite=args.polite,
        retries=args.retries,
        budget_s=args.budget,
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
