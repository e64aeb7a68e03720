"""The EMF lines a worker writes for CloudWatch: same names and labels as /metrics, fed by real requests."""

from __future__ import annotations

import io
import json
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from apis.core.app import create_app
from apis.core.emf import MAX_VALUES, EmfPublisher
from apis.core.metrics import LATENCY_BUCKETS
from apis.core.settings import CoreSettings
from tests.core.test_predict_route import png, post


def _publisher(app, stream) -> EmfPublisher:
    return EmfPublisher(
        app.extensions["metrics"].registry,
        service="toy",
        namespace="objdepth-test",
        interval_s=60,
        stream=stream,
    )


def _documents(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def _by_metric(documents: list[dict], name: str) -> list[dict]:
    return [d for d in documents if d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"] == name]


def test_every_emf_metric_is_a_metric_of_the_app_with_its_labels_as_dimensions(client, toy_app):
    stream = io.StringIO()
    publisher = _publisher(toy_app, stream)
    for _ in range(3):
        assert post(client, png(100), "/toyapi/brightness").status_code == 200
    client.get("/toyapi/nowhere")
    publisher.publish()
    exposed = {
        sample.name: set(sample.labels)
        for family in text_string_to_metric_families(client.get("/metrics").get_data(as_text=True))
        for sample in family.samples
    }
    documents = _documents(stream)
    assert documents
    for document in documents:
        directive = document["_aws"]["CloudWatchMetrics"][0]
        assert directive["Namespace"] == "objdepth-test"
        name = directive["Metrics"][0]["Name"]
        sample = name if name in exposed else f"{name}_bucket"
        assert sample in exposed, name
        for dimensions in directive["Dimensions"]:
            assert dimensions[0] == "service" and document["service"] == "toy"
            assert set(dimensions[1:]) <= exposed[sample] - {"le"}, (name, dimensions)
            assert all(isinstance(document[d], str) for d in dimensions)
    served = [
        d for d in _by_metric(documents, "api_requests_total") if d.get("endpoint") == "/toyapi/brightness"
    ]
    assert [(d["status"], d["api_requests_total"]) for d in served] == [("200", 3.0)]
    assert ["service", "endpoint", "status"] in served[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    assert any(d.get("status") == "404" for d in _by_metric(documents, "api_requests_total"))


def test_histograms_become_one_value_per_request_and_counters_only_their_increase(client, toy_app):
    stream = io.StringIO()
    publisher = _publisher(toy_app, stream)
    for _ in range(2):
        post(client, png(100), "/toyapi/brightness")
    publisher.publish()
    post(client, png(100), "/toyapi/brightness")
    stream.seek(0)
    stream.truncate()
    publisher.publish()
    documents = _documents(stream)
    latency = [
        d
        for d in _by_metric(documents, "api_request_duration_seconds")
        if d["endpoint"] == "/toyapi/brightness"
    ]
    assert len(latency) == 1 and len(latency[0]["api_request_duration_seconds"]) == 1
    (value,) = latency[0]["api_request_duration_seconds"]
    assert 0 < value <= LATENCY_BUCKETS[-1]
    assert latency[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] == "Seconds"
    counted = [
        d["api_requests_total"]
        for d in _by_metric(documents, "api_requests_total")
        if d["endpoint"] == "/toyapi/brightness"
    ]
    assert counted == [1.0]
    assert _by_metric(documents, "model_ready")[0]["model_ready"] == 1.0


def test_more_requests_than_emf_takes_at_once_are_split_across_documents(toy_app):
    stream = io.StringIO()
    publisher = _publisher(toy_app, stream)
    latency = toy_app.extensions["metrics"].latency.labels(endpoint="/toyapi/brightness")
    for _ in range(MAX_VALUES + 5):
        latency.observe(0.06)
    publisher.publish()
    parts = [
        d["api_request_duration_seconds"]
        for d in _by_metric(_documents(stream), "api_request_duration_seconds")
    ]
    assert sorted(len(p) for p in parts) == [5, MAX_VALUES]
    values = sorted(v for p in parts for v in p)
    assert 0.05 < values[0] < values[-1] < 0.075  # inside the bucket of 0.06, spread evenly
    assert sum(values) / len(values) == pytest.approx((0.05 + 0.075) / 2)


def test_the_app_publishes_on_stdout_only_when_an_interval_is_set(toy_service, capsys):
    assert "emf" not in create_app(toy_service, CoreSettings(), load_in_background=False).extensions
    app = create_app(toy_service, CoreSettings(metrics_emf_interval_s=0.05), load_in_background=False)
    try:
        deadline = time.monotonic() + 5
        while '"model_ready"' not in capsys.readouterr().out:
            assert time.monotonic() < deadline, "no EMF line on stdout"
            time.sleep(0.05)
    finally:
        app.extensions["emf"].stop()
