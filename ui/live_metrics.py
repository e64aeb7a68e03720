"""The last minutes of an API, from successive scrapes of its ``/metrics`` (for the status page).

A :class:`Snapshot` keeps what the charts need from one scrape, parsed with ``prometheus_client``'s
parser: the predict route's requests by status, its latency histogram and the queue-wait histogram.
:func:`timeline` turns consecutive snapshots into one row per interval: request rate, p50/p95/p99
latency, share shed (503) and p95 queue wait. Percentiles are interpolated inside the histogram's
buckets, as Prometheus' ``histogram_quantile`` does.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd
from prometheus_client.parser import text_string_to_metric_families

from ui.client import Service

# The predict route of each API; the ``endpoint`` label is this path, with or without the API's prefix.
PREDICT_PATHS = {Service.DETECTION: "/detect", Service.DEPTH: "/predict_depth"}
SHED_STATUS = "503"
# How often the status page scrapes each API, and how many minutes of scrapes it keeps.
REFRESH_S = 5
WINDOW_MINUTES = 15
COLUMNS = ("requests/s", "p50 s", "p95 s", "p99 s", "shed %", "queue wait p95 s")

Buckets = dict[float, float]  # upper bound -> cumulative count


@dataclass(frozen=True)
class Snapshot:
    """What one scrape of ``/metrics`` says about the predict route (all counts cumulative)."""

    at: float
    requests: Mapping[str, float] = field(default_factory=dict)  # status -> count
    latency: Buckets = field(default_factory=dict)
    queue_wait: Buckets = field(default_factory=dict)


def parse_snapshot(text: str, service: Service, at: float) -> Snapshot:
    """The predict route's figures from ``/metrics`` text (routes at the root and under the prefix summed)."""
    predict = PREDICT_PATHS[service]
    requests: dict[str, float] = {}
    latency: Buckets = {}
    queue_wait: Buckets = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            on_predict = labels.get("endpoint", "").endswith(predict)
            if sample.name == "api_requests_total" and on_predict:
                requests[labels["status"]] = requests.get(labels["status"], 0.0) + sample.value
            elif sample.name == "api_request_duration_seconds_bucket" and on_predict:
                bound = float(labels["le"])
                latency[bound] = latency.get(bound, 0.0) + sample.value
            elif sample.name == "api_stage_seconds_bucket" and labels.get("stage") == "queue":
                queue_wait[float(labels["le"])] = sample.value
    return Snapshot(at, requests, latency, queue_wait)


def quantile(q: float, buckets: Buckets) -> float:
    """The ``q`` quantile of a cumulative histogram (linear inside a bucket); NaN when it is empty."""
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] <= 0:
        return math.nan
    rank = q * buckets[bounds[-1]]
    lower, below = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower  # above the last finite bound: the bound is all we know
            inside = count - below
            return lower + (bound - lower) * ((rank - below) / inside if inside else 0.0)
        lower, below = bound, count
    return lower


def _delta(now: Mapping, before: Mapping) -> dict | None:
    """Increase per key; None when a counter went down (another worker answered, or a restart)."""
    change = {key: value - before.get(key, 0.0) for key, value in now.items()}
    return None if any(value < 0 for value in change.values()) else change


def timeline(snapshots: Iterable[Snapshot]) -> pd.DataFrame:
    """One row per interval between consecutive snapshots, indexed by the interval's end time."""
    rows, times = [], []
    ordered = sorted(snapshots, key=lambda s: s.at)
    for before, now in itertools.pairwise(ordered):
        seconds = now.at - before.at
        requests = _delta(now.requests, before.requests)
        latency = _delta(now.latency, before.latency)
        queue_wait = _delta(now.queue_wait, before.queue_wait)
        if seconds <= 0 or requests is None or latency is None or queue_wait is None:
            continue
        total = sum(requests.values())
        rows.append(
            (
                total / seconds,
                quantile(0.50, latency),
                quantile(0.95, latency),
                quantile(0.99, latency),
                100.0 * requests.get(SHED_STATUS, 0.0) / total if total else 0.0,
                quantile(0.95, queue_wait),
            )
        )
        times.append(pd.Timestamp(now.at, unit="s"))
    return pd.DataFrame(rows, columns=list(COLUMNS), index=pd.DatetimeIndex(times, name="time"))


class History:
    """Snapshots of each API over the last ``minutes``, shared by every session of the page's process."""

    def __init__(self, minutes: float) -> None:
        self.seconds = minutes * 60
        self._lock = threading.Lock()
        self._snapshots: dict[Service, deque[Snapshot]] = {service: deque() for service in Service}

    def add(self, service: Service, snapshot: Snapshot) -> None:
        with self._lock:
            kept = self._snapshots[service]
            kept.append(snapshot)
            while kept and kept[0].at < snapshot.at - self.seconds:
                kept.popleft()

    def snapshots(self, service: Service) -> list[Snapshot]:
        with self._lock:
            return list(self._snapshots[service])

    def latest_at(self, service: Service) -> float:
        with self._lock:
            kept = self._snapshots[service]
            return kept[-1].at if kept else -math.inf
