"""One CloudWatch dashboard of the platform: each API, the web page and the cluster.

Per API: request rate and goodput, share of 503 (shed) and of 4xx, latency p50/p95/p99 and queue wait and
model time (percentiles of the APIs' histograms, ``cdktf_app.app_metrics``), tasks running, CPU and
memory. The page: sessions (the load balancer's open connections: one websocket per browser tab) and
errors. The cluster: container instances and capacity-provider use (ECS managed scaling's reservation).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cdktf_app import app_metrics
from cdktf_app.cdk import Construct, cloudwatch_dashboard
from cdktf_app.config import Settings
from delivery.routes import ServiceRoute

WIDTH, HEIGHT, COLUMNS = 8, 6, 24
PERCENTILES = ("p50", "p95", "p99")


@dataclass(frozen=True)
class DashboardService:
    """One service on the dashboard: its route, ECS service name and target group suffix ("" if none)."""

    route: ServiceRoute
    ecs_service_name: str
    target_group_arn_suffix: str = ""


def _metric(namespace: str, name: str, dims: Mapping[str, str], **options: Any) -> list[Any]:
    row: list[Any] = [namespace, name]
    for key, value in dims.items():
        row += [key, value]
    return [*row, options] if options else row


def _search(namespace: str, schema: tuple[str, ...], terms: str, stat: str, period: int) -> str:
    return f"SEARCH('{{{namespace},{','.join(schema)}}} {terms}', '{stat}', {period})"


class Dashboard(Construct):
    """The dashboard. Attributes: ``dashboard`` and ``body`` (the widgets, as a Python structure)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: Settings,
        services: Mapping[str, DashboardService],
        alb_arn_suffix: str,
        capacity_providers: Mapping[str, str],
    ) -> None:
        super().__init__(scope, id_)
        self._settings = settings
        self._period = settings.metrics_publish_interval
        widgets: list[tuple[str, list[Any], dict[str, Any]]] = []
        for service in services.values():
            if app_metrics.is_api(service.route):
                widgets += self._api_widgets(service)
            else:
                widgets += self._page_widgets(service, alb_arn_suffix)
        widgets += self._cluster_widgets(capacity_providers)
        self.body = {"widgets": list(self._placed(widgets))}
        self.dashboard = cloudwatch_dashboard.CloudwatchDashboard(
            self, "dashboard", dashboard_name=settings.cluster_name, dashboard_body=json.dumps(self.body)
        )

    def _api_widgets(self, service: DashboardService) -> list[tuple[str, list[Any], dict[str, Any]]]:
        route, ns, period = service.route, self._settings.metrics_namespace, self._period
        endpoint = app_metrics.predict_endpoint(route)
        on_endpoint = app_metrics.dimensions(route, endpoint=endpoint)
        total = _metric(ns, app_metrics.REQUESTS, on_endpoint, id="total", stat="Sum", label="requests")

        def status(code: str, **options: Any) -> list[Any]:
            return _metric(ns, app_metrics.REQUESTS, {**on_endpoint, "status": code}, stat="Sum", **options)

        client_errors = " OR ".join(f'status="{code}"' for code in app_metrics.CLIENT_ERROR_STATUSES)
        search = _search(
            ns,
            ("service", "endpoint", "status"),
            f'MetricName="{app_metrics.REQUESTS}" service="{route.name}" endpoint="{endpoint}" '
            f"({client_errors})",
            "Sum",
            period,
        )
        title = f"{route.name} {endpoint}"
        return [
            (
                f"{title}: requests and goodput (200) per period",
                [total, status("200", label="goodput (200)")],
                {},
            ),
            (
                f"{title}: share shed (503) and 4xx, %",
                [
                    [
                        {
                            "expression": "100 * FILL(shed, 0) / total",
                            "label": "shed (503) %",
                            "id": "shedshare",
                        }
                    ],
                    [{"expression": f"100 * SUM({search}) / total", "label": "4xx %", "id": "clientshare"}],
                    status(app_metrics.SHED_STATUS, id="shed", visible=False),
                    [*total[:-1], {**total[-1], "visible": False}],
                ],
                {"yAxis": {"left": {"min": 0, "max": 100}}},
            ),
            (
                f"{title}: latency (s)",
                [_metric(ns, app_metrics.LATENCY, on_endpoint, stat=p, label=p) for p in PERCENTILES],
                {},
            ),
            (
                f"{route.name}: queue wait and model time (s)",
                [
                    _metric(
                        ns,
                        app_metrics.STAGE,
                        app_metrics.dimensions(route, stage=app_metrics.QUEUE_STAGE),
                        stat=p,
                        label=f"queue wait {p}",
                    )
                    for p in ("p50", "p95")
                ]
                + [
                    _metric(
                        ns, app_metrics.INFERENCE, app_metrics.dimensions(route), stat=p, label=f"model {p}"
                    )
                    for p in ("p50", "p95")
                ],
                {},
            ),
            *self._task_widgets(service),
        ]

    def _task_widgets(self, service: DashboardService) -> list[tuple[str, list[Any], dict[str, Any]]]:
        ecs = {"ClusterName": self._settings.cluster_name, "ServiceName": service.ecs_service_name}
        name = service.route.name
        return [
            (
                f"{name}: tasks running",
                [_metric("ECS/ContainerInsights", "RunningTaskCount", ecs, stat="Minimum", label="running")],
                {},
            ),
            (
                f"{name}: CPU and memory (% of reservation)",
                [
                    _metric("AWS/ECS", "CPUUtilization", ecs, stat="Average", label="CPU"),
                    _metric("AWS/ECS", "MemoryUtilization", ecs, stat="Average", label="memory"),
                ],
                {},
            ),
        ]

    def _page_widgets(
        self, service: DashboardService, alb_arn_suffix: str
    ) -> list[tuple[str, list[Any], dict[str, Any]]]:
        alb = {"LoadBalancer": alb_arn_suffix}
        group = {**alb, "TargetGroup": service.target_group_arn_suffix}
        return [
            (
                "page: sessions (open connections to the load balancer)",
                [
                    _metric(
                        "AWS/ApplicationELB", "ActiveConnectionCount", alb, stat="Sum", label="connections"
                    )
                ],
                {},
            ),
            (
                "page: errors",
                [
                    _metric(
                        "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", group, stat="Sum", label="page 5xx"
                    ),
                    _metric(
                        "AWS/ApplicationELB",
                        "HTTPCode_ELB_5XX_Count",
                        alb,
                        stat="Sum",
                        label="load balancer 5xx",
                    ),
                ],
                {},
            ),
            *self._task_widgets(service),
        ]

    def _cluster_widgets(
        self, capacity_providers: Mapping[str, str]
    ) -> list[tuple[str, list[Any], dict[str, Any]]]:
        """Instances, and each capacity provider's reservation (``capacity_providers``: label -> name)."""
        cluster = {"ClusterName": self._settings.cluster_name}
        return [
            (
                "cluster: container instances",
                [
                    _metric(
                        "ECS/ContainerInsights",
                        "ContainerInstanceCount",
                        cluster,
                        stat="Maximum",
                        label="instances",
                    )
                ],
                {},
            ),
            (
                "cluster: capacity provider use (%)",
                [
                    _metric(
                        "AWS/ECS/ManagedScaling",
                        "CapacityProviderReservation",
                        {**cluster, "CapacityProviderName": name},
                        stat="Average",
                        label=label,
                    )
                    for label, name in capacity_providers.items()
                ],
                {},
            ),
        ]

    def _placed(self, widgets: list[tuple[str, list[Any], dict[str, Any]]]) -> Iterator[dict[str, Any]]:
        for index, (title, metrics, extra) in enumerate(widgets):
            x = (index * WIDTH) % COLUMNS
            yield {
                "type": "metric",
                "x": x,
                "y": (index * WIDTH) // COLUMNS * HEIGHT,
                "width": WIDTH,
                "height": HEIGHT,
                "properties": {
                    "title": title,
                    "region": self._settings.aws_region,
                    "period": self._period,
                    "view": "timeSeries",
                    "metrics": metrics,
                    **extra,
                },
            }
