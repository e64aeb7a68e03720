"""The Prometheus metrics of one worker, written to stdout as CloudWatch embedded metric format (EMF).

On AWS the container's stdout goes to CloudWatch Logs (``awslogs``), which turns every EMF line into
CloudWatch metrics: same names as ``/metrics`` (``api_requests_total``, ``api_request_duration_seconds``,
...), their labels as dimensions, plus ``service`` (the ``api_info`` label). Every worker publishes its
own counts, so CloudWatch sums all workers and tasks (a scrape of ``/metrics`` sees one worker only).

Counters are written as the increase since the last publication; gauges as their value; a histogram as
one value per request, spread evenly inside the request's bucket, so CloudWatch computes p50/p95/p99
from the histogram (interpolated inside buckets, like ``histogram_quantile``), never from an average.
See docs/observability.md.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Iterator
from typing import TextIO

from prometheus_client import CollectorRegistry

log = logging.getLogger(__name__)

# EMF takes at most 100 values per metric in one document; more are split across documents.
MAX_VALUES = 100
# Dimension sets published on top of the full label set, so alarms can name a metric without listing
# every method and status: an endpoint's requests by status, all its requests, and all requests by status.
ROLLUPS = {"api_requests_total": (("endpoint", "status"), ("endpoint",), ("status",))}
UNITS = {"seconds": "Seconds"}

LabelKey = tuple[tuple[str, str], ...]


def _unit(name: str) -> str:
    return next((unit for suffix, unit in UNITS.items() if name.endswith(suffix)), "None")


def read_registry(registry: CollectorRegistry) -> dict[str, dict[LabelKey, float]]:
    """Every sample of ``registry``: sample name -> labels -> value (counters cumulative)."""
    samples: dict[str, dict[LabelKey, float]] = {}
    for family in registry.collect():
        if family.name == "api_info":
            continue
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def _increase(now: dict[LabelKey, float], before: dict[LabelKey, float], key: LabelKey) -> float:
    # A counter that went down belongs to a restarted process: its whole value is new.
    value, previous = now[key], before.get(key, 0.0)
    return value - previous if value >= previous else value


def _histogram_values(
    buckets: dict[LabelKey, float], before: dict[LabelKey, float]
) -> dict[LabelKey, list[float]]:
    """Bucket counts -> per label set, one value per request observed since ``before``, inside its bucket."""
    by_labels: dict[LabelKey, list[tuple[float, float]]] = {}
    for key in buckets:
        labels = tuple(item for item in key if item[0] != "le")
        bound = float(dict(key)["le"])
        by_labels.setdefault(labels, []).append((bound, _increase(buckets, before, key)))
    values: dict[LabelKey, list[float]] = {}
    for labels, cumulative in by_labels.items():
        cumulative.sort()
        lower, seen, found = 0.0, 0.0, []
        for bound, count in cumulative:
            upper = bound if bound != float("inf") else lower
            inside = round(count - seen)
            # Spread evenly across the bucket, as Prometheus' histogram_quantile interpolates.
            found += [lower + (upper - lower) * (i + 0.5) / inside for i in range(inside)]
            lower, seen = upper, count
        if found:
            values[labels] = found
    return values


def documents(
    service: str,
    namespace: str,
    now: dict[str, dict[LabelKey, float]],
    before: dict[str, dict[LabelKey, float]],
    kinds: dict[str, str],
    timestamp_ms: int,
) -> Iterator[dict]:
    """The EMF documents for the change from ``before`` to ``now``; ``kinds``: sample name -> type."""
    for name, kind in sorted(kinds.items()):
        series = now.get(name, {})
        previous = before.get(name, {})
        if kind == "histogram":
            metric = name.removesuffix("_bucket")
            chunks = {
                labels: [values[i : i + MAX_VALUES] for i in range(0, len(values), MAX_VALUES)]
                for labels, values in _histogram_values(series, previous).items()
            }
            items = [(metric, labels, chunk) for labels, parts in chunks.items() for chunk in parts]
        elif kind == "counter":
            items = [(name, labels, _increase(series, previous, labels)) for labels in series]
            items = [item for item in items if item[2] > 0]
        else:
            items = [(name, labels, value) for labels, value in series.items()]
        for metric, labels, value in items:
            label_names = [label for label, _ in labels]
            dimension_sets = [["service", *label_names]]
            dimension_sets += [["service", *rollup] for rollup in ROLLUPS.get(metric, ())]
            yield {
                "_aws": {
                    "Timestamp": timestamp_ms,
                    "CloudWatchMetrics": [
                        {
                            "Namespace": namespace,
                            "Dimensions": dimension_sets,
                            "Metrics": [{"Name": metric, "Unit": _unit(metric)}],
                        }
                    ],
                },
                "service": service,
                **dict(labels),
                metric: value,
            }


def sample_kinds(registry: CollectorRegistry) -> dict[str, str]:
    """Sample name -> how it is published: counter (``*_total``), histogram (``*_bucket``) or gauge."""
    kinds: dict[str, str] = {}
    for family in registry.collect():
        if family.name == "api_info":
            continue
        if family.type == "counter":
            kinds[f"{family.name}_total"] = "counter"
        elif family.type == "histogram":
            kinds[f"{family.name}_bucket"] = "histogram"
        elif family.type == "gauge":
            kinds[family.name] = "gauge"
    return kinds


class EmfPublisher:
    """Writes the registry's change as EMF lines every ``interval_s`` seconds, from a daemon thread."""

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        service: str,
        namespace: str,
        interval_s: float,
        stream: TextIO | None = None,
    ) -> None:
        self.registry, self.service, self.namespace, self.interval_s = (
            registry,
            service,
            namespace,
            interval_s,
        )
        self._stream = stream
        self._before: dict[str, dict[LabelKey, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="emf-publisher", daemon=True)

    def publish(self) -> int:
        """Write one round of documents now; returns how many were written."""
        now = read_registry(self.registry)
        stream = self._stream or sys.stdout
        written = 0
        for document in documents(
            self.service,
            self.namespace,
            now,
            self._before,
            sample_kinds(self.registry),
            int(time.time() * 1000),
        ):
            stream.write(json.dumps(document, separators=(",", ":")) + "\n")
            written += 1
        stream.flush()
        self._before = now
        return written

    def start(self) -> EmfPublisher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.publish()
            except Exception:  # a metrics hiccup must never stop the worker
                log.exception("publishing metrics as EMF failed")
