"""CloudWatch alarms to the alert topic: load balancer errors, unhealthy targets, latency, CPU/memory.

Services behind the load balancer are watched through its target group metrics; services reached only
inside the VPC through the Service Connect metrics ECS publishes (same names, ``AWS/ECS``) and Container
Insights' running task count. The APIs are also watched through their own metrics (``cdktf_app.app_metrics``),
for what users feel: p95 latency of the predict route, the share of requests shed (503), any other 5xx, and
no task with its model loaded. Alarms only notify. Scaling is done by service target tracking and ECS
managed scaling, not by alarms (the original drove the auto scaling group from cluster-wide alarms).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cdktf_app import app_metrics
from cdktf_app.cdk import Construct, cloudwatch_metric_alarm
from cdktf_app.config import Settings
from delivery.routes import ServiceRoute


@dataclass(frozen=True)
class MonitoredService:
    """The names CloudWatch knows one service by; ``target_group_arn_suffix`` is "" off the load balancer."""

    target_group_arn_suffix: str
    ecs_service_name: str
    response_time_alarm_seconds: float
    discovery_name: str = ""
    min_tasks: int = 1
    # The API's route when it publishes application metrics (``app_metrics.is_api``); None for the page.
    api_route: ServiceRoute | None = None
    latency_p95_alarm_seconds: float = 0.0


class Monitoring(Construct):
    """Every alarm, each notifying ``topic_arn``. Attributes: ``alarms`` (alarm id -> alarm)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: Settings,
        topic_arn: str,
        alb_arn_suffix: str,
        services: Mapping[str, MonitoredService],
    ) -> None:
        super().__init__(scope, id_)
        self._settings = settings
        self._topic_arn = topic_arn
        self.alarms: dict[str, cloudwatch_metric_alarm.CloudwatchMetricAlarm] = {}
        alb = {"LoadBalancer": alb_arn_suffix}
        self._alarm(
            "alb-5xx",
            "Load balancer answered with 5xx (no healthy target, or a target failed)",
            namespace="AWS/ApplicationELB",
            metric="HTTPCode_ELB_5XX_Count",
            dimensions=alb,
            statistic="Sum",
            threshold=settings.alb_5xx_alarm_threshold,
        )
        for name, service in services.items():
            ecs = {"ClusterName": settings.cluster_name, "ServiceName": service.ecs_service_name}
            if service.target_group_arn_suffix:
                namespace, traffic = (
                    "AWS/ApplicationELB",
                    {**alb, "TargetGroup": service.target_group_arn_suffix},
                )
            else:
                namespace, traffic = "AWS/ECS", {**ecs, "DiscoveryName": service.discovery_name}
            watched = [
                (
                    "target-5xx",
                    "HTTPCode_Target_5XX_Count",
                    "Sum",
                    settings.alb_5xx_alarm_threshold,
                    "5xx answers",
                ),
                (
                    "response-time",
                    "TargetResponseTime",
                    "Average",
                    service.response_time_alarm_seconds,
                    "slow",
                ),
            ]
            if service.target_group_arn_suffix:
                watched.append(
                    ("unhealthy-hosts", "UnHealthyHostCount", "Maximum", 0, "a target fails its health check")
                )
            for suffix, metric, statistic, threshold, what in watched:
                self._alarm(
                    f"{name}-{suffix}",
                    f"{name}: {what} ({metric} above {threshold})",
                    namespace=namespace,
                    metric=metric,
                    dimensions=traffic,
                    statistic=statistic,
                    threshold=threshold,
                )
            self._alarm(
                f"{name}-tasks-missing",
                f"{name}: fewer than {service.min_tasks} tasks running",
                namespace="ECS/ContainerInsights",
                metric="RunningTaskCount",
                dimensions=ecs,
                statistic="Minimum",
                threshold=service.min_tasks,
                comparison="LessThanThreshold",
                missing="breaching",
            )
            for metric, threshold in (
                ("CPUUtilization", settings.cpu_alarm_threshold),
                ("MemoryUtilization", settings.memory_alarm_threshold),
            ):
                self._alarm(
                    f"{name}-{metric.removesuffix('Utilization').lower()}-high",
                    f"{name}: {metric} above {threshold} %",
                    namespace="AWS/ECS",
                    metric=metric,
                    dimensions=ecs,
                    statistic="Average",
                    threshold=threshold,
                )
            if service.api_route is not None:
                self._user_alarms(name, service, service.api_route)

    def _user_alarms(self, name: str, service: MonitoredService, route: ServiceRoute) -> None:
        """Alarms on the API's own metrics: what a caller of the predict route notices."""
        settings = self._settings
        namespace = settings.metrics_namespace
        endpoint = app_metrics.predict_endpoint(route)
        if service.latency_p95_alarm_seconds:
            self._alarm(
                f"{name}-latency-p95",
                f"{name}: p95 latency of {endpoint} above {service.latency_p95_alarm_seconds} s",
                namespace=namespace,
                metric=app_metrics.LATENCY,
                dimensions=app_metrics.dimensions(route, endpoint=endpoint),
                statistic="p95",
                threshold=service.latency_p95_alarm_seconds,
            )
        requests = {"namespace": namespace, "metric_name": app_metrics.REQUESTS, "stat": "Sum"}
        shed = {
            "total": app_metrics.dimensions(route, endpoint=endpoint),
            "shed": app_metrics.dimensions(route, endpoint=endpoint, status=app_metrics.SHED_STATUS),
        }
        self._math_alarm(
            f"{name}-shed-share",
            f"{name}: over {settings.shed_share_alarm_percent} % of {endpoint} requests shed (503) "
            f"for {settings.shed_alarm_minutes} minutes",
            expression="100 * FILL(shed, 0) / total",
            metrics={key: {**requests, "dimensions": dims} for key, dims in shed.items()},
            threshold=settings.shed_share_alarm_percent,
            evaluation_periods=self._periods(settings.shed_alarm_minutes),
        )
        errors = {
            f"s{status}": {**requests, "dimensions": app_metrics.dimensions(route, status=status)}
            for status in app_metrics.SERVER_ERROR_STATUSES
        }
        self._math_alarm(
            f"{name}-server-errors",
            f"{name}: answered 5xx other than 503 ({', '.join(app_metrics.SERVER_ERROR_STATUSES)})",
            expression=" + ".join(f"FILL({key}, 0)" for key in errors),
            metrics=errors,
            threshold=0,
            evaluation_periods=1,
        )
        self._alarm(
            f"{name}-model-not-ready",
            f"{name}: no task has its model loaded for {settings.model_not_ready_alarm_minutes} minutes "
            "(a model failing to load: tasks never healthy)",
            namespace=namespace,
            metric=app_metrics.READY,
            dimensions=app_metrics.dimensions(route),
            statistic="Maximum",
            threshold=1,
            comparison="LessThanThreshold",
            missing="breaching" if service.min_tasks else "notBreaching",
            evaluation_periods=self._periods(settings.model_not_ready_alarm_minutes),
        )

    def _periods(self, minutes: int) -> int:
        return max(1, math.ceil(minutes * 60 / self._settings.alarm_period))

    def _math_alarm(
        self,
        id_: str,
        description: str,
        *,
        expression: str,
        metrics: Mapping[str, Mapping[str, Any]],
        threshold: float,
        evaluation_periods: int,
    ) -> None:
        """An alarm on a metric math ``expression`` over ``metrics`` (query id -> metric)."""
        period = self._settings.alarm_period
        query = cloudwatch_metric_alarm.CloudwatchMetricAlarmMetricQuery
        queries = [query(id="alarm", expression=expression, label=id_, return_data=True)]
        queries += [
            query(
                id=key,
                metric=cloudwatch_metric_alarm.CloudwatchMetricAlarmMetricQueryMetric(
                    **metric, period=period
                ),
            )
            for key, metric in metrics.items()
        ]
        self.alarms[id_] = cloudwatch_metric_alarm.CloudwatchMetricAlarm(
            self,
            id_,
            **self._common(id_, description, threshold, "GreaterThanThreshold", "notBreaching"),
            metric_query=queries,
            evaluation_periods=evaluation_periods,
        )

    def _common(
        self, id_: str, description: str, threshold: float, comparison: str, missing: str
    ) -> dict[str, Any]:
        return {
            "alarm_name": f"{self._settings.cluster_name}-{id_}",
            "alarm_description": description,
            "comparison_operator": comparison,
            "threshold": threshold,
            # No requests means no errors and no latency to worry about; no task count means no task.
            "treat_missing_data": missing,
            "alarm_actions": [self._topic_arn],
            "ok_actions": [self._topic_arn],
        }

    def _alarm(
        self,
        id_: str,
        description: str,
        *,
        namespace: str,
        metric: str,
        dimensions: Mapping[str, str],
        statistic: str,
        threshold: float,
        comparison: str = "GreaterThanThreshold",
        missing: str = "notBreaching",
        evaluation_periods: int | None = None,
    ) -> None:
        """An alarm on one metric; ``statistic`` ``pNN`` is a percentile (an extended statistic)."""
        settings = self._settings
        percentile = statistic.startswith("p")
        self.alarms[id_] = cloudwatch_metric_alarm.CloudwatchMetricAlarm(
            self,
            id_,
            **self._common(id_, description, threshold, comparison, missing),
            namespace=namespace,
            metric_name=metric,
            dimensions=dict(dimensions),
            statistic=None if percentile else statistic,
            extended_statistic=statistic if percentile else None,
            period=settings.alarm_period,
            evaluation_periods=evaluation_periods or settings.alarm_evaluation_periods,
        )
