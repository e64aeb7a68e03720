"""CloudWatch alarms to the alert topic: load balancer errors, unhealthy targets, latency, CPU/memory.

Services behind the load balancer are watched through its target group metrics; services reached only
inside the VPC through the Service Connect metrics ECS publishes (same names, ``AWS/ECS``) and Container
Insights' running task count. Alarms only notify. Scaling is done by service target tracking and ECS
managed scaling, not by alarms (the original drove the auto scaling group from cluster-wide alarms).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktf_app.cdk import Construct, cloudwatch_metric_alarm
from cdktf_app.config import Settings


@dataclass(frozen=True)
class MonitoredService:
    """The names CloudWatch knows one service by; ``target_group_arn_suffix`` is "" off the load balancer."""

    target_group_arn_suffix: str
    ecs_service_name: str
    response_time_alarm_seconds: float
    discovery_name: str = ""
    min_tasks: int = 1


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
    ) -> None:
        settings = self._settings
        self.alarms[id_] = cloudwatch_metric_alarm.CloudwatchMetricAlarm(
            self,
            id_,
            alarm_name=f"{settings.cluster_name}-{id_}",
            alarm_description=description,
            namespace=namespace,
            metric_name=metric,
            dimensions=dict(dimensions),
            statistic=statistic,
            comparison_operator=comparison,
            threshold=threshold,
            period=settings.alarm_period,
            evaluation_periods=settings.alarm_evaluation_periods,
            # No requests means no errors and no latency to worry about; no task count means no task.
            treat_missing_data=missing,
            alarm_actions=[self._topic_arn],
            ok_actions=[self._topic_arn],
        )
