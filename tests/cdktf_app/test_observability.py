"""The metric pipeline, the dashboard and the alarms on what users feel, read from the synthesized stack.

Every metric of the APIs' namespace that a widget or an alarm names is checked against a running app's
``/metrics`` (the toy service in the same app factory the APIs use): same name, and dimensions that are
labels of that metric (plus ``service``).
"""

from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from apis.core.app import create_app
from apis.core.settings import CoreSettings
from apis.depth.service import DepthService
from apis.detection.service import DetectionService
from cdktf_app import app_metrics
from delivery.routes import DEPTH, DETECTION
from tests.cdktf_app.helpers import Synthesized
from tests.core.toy import ToyService

APIS = (DETECTION, DEPTH)
ISSUE_WIDGETS = (
    "requests and goodput",
    "shed (503) and 4xx",
    "latency",
    "queue wait and model time",
    "tasks running",
    "CPU and memory",
)


@pytest.fixture(scope="module")
def exposed() -> dict[str, set[str]]:
    """Sample name -> label names, from /metrics of an app that has answered a request and a 404."""
    app = create_app(ToyService(), CoreSettings(), load_in_background=False)
    client = app.test_client()
    picture = io.BytesIO()
    Image.new("L", (8, 6), 100).save(picture, format="PNG")
    form = {"image": (io.BytesIO(picture.getvalue()), "grey.png")}
    assert client.post("/toyapi/brightness", data=form, content_type="multipart/form-data").status_code == 200
    client.get("/toyapi/nowhere")
    text = client.get("/metrics").get_data(as_text=True)
    found: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name = sample.name.removesuffix("_bucket") if sample.name.endswith("_bucket") else sample.name
            found.setdefault(name, set()).update(set(sample.labels) - {"le"})
            if sample.labels.get("stage"):
                found.setdefault(f"stage={sample.labels['stage']}", set())
    return found


def _check_metric(namespace: str, name: str, dims: dict[str, str], exposed: dict[str, set[str]]) -> None:
    assert name in exposed, f"{name} is not in the app's /metrics"
    assert dims.get("service") in {route.name for route in APIS}, dims
    assert set(dims) - {"service"} <= exposed[name], (name, dims)
    if "stage" in dims:
        assert f"stage={dims['stage']}" in exposed


def _widget_metrics(widget: dict) -> list[tuple[str, str, dict[str, str]]]:
    rows = []
    for row in widget["properties"]["metrics"]:
        plain = [item for item in row if not isinstance(item, dict)]
        if plain:
            rows.append((plain[0], plain[1], dict(zip(plain[2::2], plain[3::2], strict=True))))
    return rows


def _dashboard(stack: Synthesized) -> dict:
    (dashboard,) = stack.resources("aws_cloudwatch_dashboard")
    return json.loads(dashboard["dashboard_body"])


def test_each_api_container_publishes_its_metrics_and_the_page_does_not(any_stack: Synthesized) -> None:
    settings = any_stack.settings
    for name, container in any_stack.containers().items():
        environment = {item["name"]: item["value"] for item in container["environment"]}
        if name == settings.services["ui"].container_name:
            assert "METRICS_EMF_INTERVAL_S" not in environment
            continue
        assert environment["METRICS_EMF_INTERVAL_S"] == str(settings.metrics_publish_interval)
        assert environment["METRICS_EMF_NAMESPACE"] == settings.metrics_namespace
        assert container["logConfiguration"]["logDriver"] == "awslogs"  # carries the EMF lines


def test_the_pipeline_variables_are_the_ones_the_apis_read(monkeypatch, default_settings) -> None:
    for key, value in app_metrics.pipeline_environment(default_settings).items():
        monkeypatch.setenv(key, value)
    read = CoreSettings()
    assert read.metrics_emf_interval_s == default_settings.metrics_publish_interval
    assert read.metrics_emf_namespace == default_settings.metrics_namespace


def test_predict_paths_are_the_apis_routes() -> None:
    assert {
        DETECTION.name: DetectionService.predict_path,
        DEPTH.name: DepthService.predict_path,
    } == app_metrics.PREDICT_PATHS


def test_the_dashboard_has_every_widget_the_issue_asks_for(any_stack: Synthesized) -> None:
    titles = [widget["properties"]["title"] for widget in _dashboard(any_stack)["widgets"]]
    for route in APIS:
        for what in ISSUE_WIDGETS:
            assert any(t.startswith(route.name) and what in t for t in titles), (route.name, what)
    for what in (
        "page: sessions",
        "page: errors",
        "cluster: container instances",
        "cluster: capacity provider",
    ):
        assert any(t.startswith(what) for t in titles), what
    latency = [t for t in titles if t.endswith("latency (s)")]
    assert len(latency) == len(APIS)


def test_every_app_metric_a_widget_names_exists_in_the_apps_metrics(any_stack: Synthesized, exposed) -> None:
    namespace = any_stack.settings.metrics_namespace
    named = 0
    for widget in _dashboard(any_stack)["widgets"]:
        for metric_namespace, name, dims in _widget_metrics(widget):
            if metric_namespace == namespace:
                _check_metric(namespace, name, dims, exposed)
                named += 1
        for row in widget["properties"]["metrics"]:
            expression = row[0].get("expression", "") if isinstance(row[0], dict) else ""
            for name in re.findall(r'MetricName="([^"]+)"', expression):
                assert name in exposed
    assert named >= 10


def test_latency_widgets_are_percentiles_of_the_histogram(stack: Synthesized) -> None:
    for widget in _dashboard(stack)["widgets"]:
        if widget["properties"]["title"].endswith("latency (s)"):
            stats = [row[-1]["stat"] for row in widget["properties"]["metrics"]]
            assert stats == ["p50", "p95", "p99"]
            assert {row[1] for row in widget["properties"]["metrics"]} == {app_metrics.LATENCY}


def _alarm(stack: Synthesized, suffix: str) -> dict:
    return stack.one("aws_cloudwatch_metric_alarm", alarm_name=f"{stack.settings.cluster_name}-{suffix}")


def _alarm_metrics(alarm: dict) -> list[tuple[str, str, dict[str, str]]]:
    if "metric_query" not in alarm:
        return [(alarm["namespace"], alarm["metric_name"], alarm["dimensions"])]
    return [
        (q["metric"]["namespace"], q["metric"]["metric_name"], q["metric"]["dimensions"])
        for q in alarm["metric_query"]
        if "metric" in q
    ]


@pytest.mark.parametrize("route", APIS, ids=lambda r: r.name)
def test_alarms_on_what_users_feel_go_to_the_topic(any_stack: Synthesized, exposed, route) -> None:
    settings = any_stack.settings
    (topic_id,) = any_stack.doc["resource"]["aws_sns_topic"]
    latency = _alarm(any_stack, f"{route.name}-latency-p95")
    assert latency["extended_statistic"] == "p95" and "statistic" not in latency
    assert latency["threshold"] == settings.services[route.name].latency_p95_alarm_seconds
    assert latency["dimensions"]["endpoint"] == app_metrics.predict_endpoint(route)
    shed = _alarm(any_stack, f"{route.name}-shed-share")
    assert shed["threshold"] == settings.shed_share_alarm_percent
    assert shed["evaluation_periods"] * settings.alarm_period == settings.shed_alarm_minutes * 60
    statuses = {m[2].get("status") for m in _alarm_metrics(shed)}
    assert statuses == {None, "503"}
    errors = _alarm(any_stack, f"{route.name}-server-errors")
    assert errors["threshold"] == 0 and errors["evaluation_periods"] == 1
    assert {m[2]["status"] for m in _alarm_metrics(errors)} == set(app_metrics.SERVER_ERROR_STATUSES)
    assert "503" not in app_metrics.SERVER_ERROR_STATUSES
    ready = _alarm(any_stack, f"{route.name}-model-not-ready")
    assert (ready["comparison_operator"], ready["threshold"], ready["treat_missing_data"]) == (
        "LessThanThreshold",
        1,
        "breaching",
    )
    for alarm in (latency, shed, errors, ready):
        assert alarm["alarm_actions"] == alarm["ok_actions"] == [f"${{aws_sns_topic.{topic_id}.arn}}"]
        for namespace, name, dims in _alarm_metrics(alarm):
            assert namespace == settings.metrics_namespace
            _check_metric(namespace, name, dims, exposed)


def test_a_rolled_back_deployment_is_reported_to_the_topic(stack: Synthesized) -> None:
    (rule,) = stack.resources("aws_cloudwatch_event_rule")
    pattern = json.loads(rule["event_pattern"])
    assert pattern["detail"]["eventName"] == ["SERVICE_DEPLOYMENT_FAILED"]
    services = stack.resources("aws_ecs_service")
    assert all(s["deployment_circuit_breaker"] == {"enable": True, "rollback": True} for s in services)
