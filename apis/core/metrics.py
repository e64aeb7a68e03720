"""Prometheus metrics of one API process, in a registry of its own (one per app)."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 0.75, 1, 1.5, 2.5, 5, 10, 30)


class ApiMetrics:
    """Request counts, latency, errors by code, and where the time of a request goes."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = {"service": service}
        self.requests = Counter(
            "api_requests",
            "HTTP requests served.",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "api_request_duration_seconds",
            "Time from request to response.",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "api_errors", "Error responses by machine code.", ["code"], registry=self.registry
        )
        self.stage = Histogram(
            "api_stage_seconds",
            "Time per request stage (decode, queue, inference, postprocess, encode).",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.inference = Histogram(
            "model_inference_seconds",
            "Time inside the model call.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.cache_lookups = Counter(
            "result_cache_lookups",
            "Lookups in a model-result cache (the depth API's recent depth maps), by result: hit or miss.",
            ["result"],
            registry=self.registry,
        )
        self.ready = Gauge("model_ready", "1 when the model is loaded and warm.", registry=self.registry)
        self.waiting = Gauge("model_queue_waiting", "Requests waiting for the model.", registry=self.registry)
        self.info = Gauge(
            "api_info", "Constant 1, labelled with the service name.", list(labels), registry=self.registry
        )
        self.info.labels(**labels).set(1)

    def observe_stages(self, timings_ms: Mapping[str, float]) -> None:
        """Record a request's ``timing_ms`` (milliseconds) per stage; ``total`` is skipped."""
        for stage, milliseconds in timings_ms.items():
            if stage != "total":
                self.stage.labels(stage=stage).observe(milliseconds / 1000.0)
        if "inference" in timings_ms:
            self.inference.observe(timings_ms["inference"] / 1000.0)

    def render(self) -> bytes:
        return generate_latest(self.registry)
