"""CloudWatch alarms to an SNS topic: load balancer errors, unhealthy targets, latency, service CPU/memory.

Alarms only notify. Scaling is done by service target tracking and ECS managed scaling, not by alarms
(the original drove the auto scaling group from cluster-wide alarms).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktf_app.cdk import Construct, cloudwatch_metric_alarm, sns_topic, sns_topic_subscription
from cdktf_app.config import Settings


@dataclass(frozen=True)
class MonitoredService:
    """The names CloudWatch knows one service by."""

    target_group_arn_suffix: str
    ecs_service_name: str
    response_time_alarm_seconds: float


class Monitoring(Construct):
    """The alarm topic and every alarm. Attributes: ``topic``, ``alarms`` (alarm id -> alarm)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: Settings,
        alb_arn_suffix: str,
        services: Mapping[str, MonitoredService],
    ) -> None:
        super().__init__(scope, id_)
        self._settings = settings
        self.topic = sns_topic.SnsTopic(
            self, "topic", name=f"{settings.cluster_name}-alarms", kms_master_key_id="alias/aws/sns"
        )
        if settings.alarm_email:
            sns_topic_subscription.SnsTopicSubscription(
                self, "email", topic_arn=self.topic.arn, protocol="email", endpoint=settings.alarm_email
            )
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
            target = {**alb, "TargetGroup": service.target_group_arn_suffix}
            ecs = {"ClusterName": settings.cluster_name, "ServiceName": service.ecs_service_name}
            for suffix, metric, statistic, threshold, what in (
                (
                    "target-5xx",
                    "HTTPCode_Target_5XX_Count",
                    "Sum",
                    settings.alb_5xx_alarm_threshold,
                    "5xx answers",
                ),
                ("unhealthy-hosts", "UnHealthyHostCount", "Maximum", 0, "a target fails its health check"),
                (
                    "response-time",
                    "TargetResponseTime",
                    "Average",
                    service.response_time_alarm_seconds,
                    "slow",
                ),
            ):
                self._alarm(
                    f"{name}-{suffix}",
                    f"{name}: {what} ({metric} above {threshold})",
                    namespace="AWS/ApplicationELB",
                    metric=metric,
                    dimensions=target,
                    statistic=statistic,
                    threshold=threshold,
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
            comparison_operator="GreaterThanThreshold",
            threshold=threshold,
            period=settings.alarm_period,
            evaluation_periods=settings.alarm_evaluation_periods,
            # No requests means no errors and no latency to worry about.
            treat_missing_data="notBreaching",
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
        )
