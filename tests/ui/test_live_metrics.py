"""The status page's arithmetic on real /metrics text: rates, histogram percentiles, shed share."""

from __future__ import annotations

import math

import pytest
from prometheus_client import generate_latest

from apis.core.metrics import ApiMetrics
from ui.client import Service
from ui.live_metrics import History, parse_snapshot, quantile, timeline


def _scrape(metrics: ApiMetrics, at: float):
    return parse_snapshot(generate_latest(metrics.registry).decode(), Service.DETECTION, at)


def _serve(metrics: ApiMetrics, status: str, seconds: float, endpoint: str = "/yoloapi/detect") -> None:
    metrics.requests.labels(endpoint=endpoint, method="POST", status=status).inc()
    metrics.latency.labels(endpoint=endpoint).observe(seconds)


def test_quantiles_interpolate_inside_buckets_like_prometheus():
    buckets = {0.1: 50.0, 0.2: 100.0, math.inf: 100.0}
    assert quantile(0.5, buckets) == pytest.approx(0.1)
    assert quantile(0.75, buckets) == pytest.approx(0.15)
    assert math.isnan(quantile(0.5, {0.1: 0.0, math.inf: 0.0}))
    assert quantile(0.99, {0.1: 0.0, math.inf: 4.0}) == 0.1  # beyond the last bound: the bound


def test_timeline_rates_percentiles_and_shed_share_per_interval():
    metrics = ApiMetrics("detection")
    first = _scrape(metrics, 100.0)
    for _ in range(8):
        _serve(metrics, "200", 0.06)
    for _ in range(2):
        _serve(metrics, "503", 0.005)
    _serve(metrics, "200", 0.3, endpoint="/health")  # not the predict route: not counted
    metrics.stage.labels(stage="queue").observe(0.02)
    second = _scrape(metrics, 105.0)
    table = timeline([second, first])
    assert len(table) == 1
    row = table.iloc[0]
    assert row["requests/s"] == pytest.approx(10 / 5)
    assert row["shed %"] == pytest.approx(20.0)
    assert 0.05 <= row["p95 s"] <= 0.075 and row["p50 s"] <= row["p95 s"] <= row["p99 s"]
    assert 0.01 <= row["queue wait p95 s"] <= 0.025


def test_a_counter_going_down_skips_the_interval_instead_of_charting_nonsense():
    busy = ApiMetrics("detection")
    for _ in range(5):
        _serve(busy, "200", 0.06)
    other_worker = ApiMetrics("detection")
    _serve(other_worker, "200", 0.06)
    assert timeline([_scrape(busy, 1.0), _scrape(other_worker, 2.0)]).empty


def test_history_keeps_only_the_window():
    history = History(minutes=1)
    metrics = ApiMetrics("detection")
    for at in (0.0, 30.0, 61.0, 90.0):
        history.add(Service.DETECTION, _scrape(metrics, at))
    assert [s.at for s in history.snapshots(Service.DETECTION)] == [30.0, 61.0, 90.0]
    assert history.latest_at(Service.DEPTH) == -math.inf
