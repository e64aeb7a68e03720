"""One ECS service on EC2 (used once per entry of ``delivery/routes.py``).

Each service gets its own log group, execution role (pull its image, write its logs, read its
secrets), empty task role (the apps call no AWS API), bridge-mode task definition with a dynamic
host port and a container health check, the service itself in ECS Service Connect (the APIs offer
themselves by name, the web page is a client), and target-tracking auto scaling. A service joins a
load balancer target group only when the wiring names one (the web page always; the APIs only
with ``public_apis``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cdktf_app.cdk import (
    Construct,
    TerraformResourceLifecycle,
    appautoscaling_policy,
    appautoscaling_target,
    cloudwatch_log_group,
    ecs_service,
    ecs_task_definition,
)
from cdktf_app.config import ServiceSettings, Settings
from cdktf_app.constructs.iam import ServiceRole, allow
from cdktf_app.gpu import image_tag, runs_on_gpu, task_size
from delivery.routes import ServiceRoute

# A writable scratch volume for read-only root file systems (temporary files, library caches).
SCRATCH_VOLUME = "scratch"
SCRATCH_PATH = "/tmp"


@dataclass(frozen=True)
class ServiceWiring:
    """What a service is connected to, built by the stack from the other constructs."""

    cluster_arn: str
    cluster_name: str
    capacity_provider_name: str
    repository_url: str
    repository_arn: str
    # Cloud Map namespace of ECS Service Connect.
    namespace_arn: str = ""
    # "" when the service is reached only inside the VPC.
    target_group_arn: str = ""
    # "<alb arn suffix>/<target group arn suffix>", the label of the ALB requests-per-target metric.
    request_count_label: str = ""
    environment: Mapping[str, str] = field(default_factory=dict)
    # Environment variable -> SSM parameter ARN; ECS reads them at task start.
    secrets: Mapping[str, str] = field(default_factory=dict)
    depends_on: Sequence[Any] = ()


#: The images' own health check (their HEALTHCHECK): ``docker/serve.py`` reads the image's entry of
#: the routes table and wants a 2xx on its health path and, where the table names one, its exact body
#: (the page's ``ok``: Streamlit answers 200 on every path). The images carry no curl.
IMAGE_HEALTH_COMMAND = ["CMD", "python", "/usr/local/bin/serve", "health"]


def health_check_command(route: ServiceRoute) -> list[str]:
    """Container health check of ``route``'s image: the image's own, so the check is written once."""
    return list(IMAGE_HEALTH_COMMAND)


def container_definition(
    route: ServiceRoute, settings: Settings, wiring: ServiceWiring, log_group_name: str
) -> dict[str, Any]:
    """The task's single container: image, limits, port, environment, secrets, logs and health check.

    On GPU capacity (:mod:`cdktf_app.gpu`) it reserves one GPU and runs the image's GPU variant.
    """
    service = settings.services[route.name]
    size = task_size(settings, route)
    definition: dict[str, Any] = {
        "name": service.container_name,
        "image": f"{wiring.repository_url}:{image_tag(settings, route)}",
        "essential": True,
        "cpu": size.container_cpu,
        "memory": size.container_memory,
        "memoryReservation": size.container_memory_reservation,
        # hostPort 0: Docker picks a free port from the dynamic range, so tasks share an instance.
        # The name is what Service Connect publishes the port under.
        "portMappings": [
            {
                "name": route.name,
                "containerPort": route.port,
                "hostPort": 0,
                "protocol": "tcp",
                "appProtocol": "http",
            }
        ],
        "environment": [{"name": k, "value": v} for k, v in sorted(wiring.environment.items())],
        "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(wiring.secrets.items())],
        "readonlyRootFilesystem": service.readonly_root_filesystem,
        "privileged": False,
        "linuxParameters": {"initProcessEnabled": True},
        "stopTimeout": 30,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group_name,
                "awslogs-region": settings.aws_region,
                "awslogs-stream-prefix": route.name,
            },
        },
        "healthCheck": {
            "command": health_check_command(route),
            "interval": settings.health_check_interval,
            "timeout": settings.health_check_timeout,
            "retries": settings.health_check_unhealthy_threshold,
            "startPeriod": settings.container_health_check_start_period,
        },
    }
    if runs_on_gpu(settings, route):
        definition["resourceRequirements"] = [{"type": "GPU", "value": "1"}]
    if service.readonly_root_filesystem:
        definition["mountPoints"] = [
            {"sourceVolume": SCRATCH_VOLUME, "containerPath": SCRATCH_PATH, "readOnly": False}
        ]
    return definition


def service_connect(
    route: ServiceRoute, namespace_arn: str
) -> ecs_service.EcsServiceServiceConnectConfiguration:
    """Service Connect: an API offers its port as ``http://<name>:<port>``; the web page only calls."""
    offered = [
        ecs_service.EcsServiceServiceConnectConfigurationService(
            port_name=route.name,
            discovery_name=route.name,
            client_alias=ecs_service.EcsServiceServiceConnectConfigurationServiceClientAlias(
                port=route.port, dns_name=route.name
            ),
        )
    ]
    return ecs_service.EcsServiceServiceConnectConfiguration(
        enabled=True, namespace=namespace_arn, service=None if route.is_default_route else offered
    )


class EcsService(Construct):
    """One service of the platform. Attributes: ``service``, ``task_definition``, ``log_group``."""

    def __init__(
        self, scope: Construct, id_: str, *, route: ServiceRoute, settings: Settings, wiring: ServiceWiring
    ) -> None:
        super().__init__(scope, id_)
        service = settings.services[route.name]
        self.log_group = cloudwatch_log_group.CloudwatchLogGroup(
            self,
            "logs",
            name=f"/ecs/{settings.cluster_name}/{route.name}",
            retention_in_days=settings.log_retention_days,
        )
        execution_role = self._execution_role(route, settings, wiring)
        task_role = ServiceRole(
            self,
            "task-role",
            name=f"{settings.cluster_name}-{route.name}-task",
            principal="ecs-tasks.amazonaws.com",
        )
        container = container_definition(route, settings, wiring, self.log_group.name)
        self.task_definition = ecs_task_definition.EcsTaskDefinition(
            self,
            "task",
            family=service.task_family,
            network_mode="bridge",
            requires_compatibilities=["EC2"],
            cpu=str(task_size(settings, route).task_cpu),
            memory=str(task_size(settings, route).task_memory),
            execution_role_arn=execution_role.role.arn,
            task_role_arn=task_role.role.arn,
            container_definitions=json.dumps([container]),
            volume=[ecs_task_definition.EcsTaskDefinitionVolume(name=SCRATCH_VOLUME)]
            if service.readonly_root_filesystem
            else None,
        )
        self.service = ecs_service.EcsService(
            self,
            "service",
            name=service.service_name,
            cluster=wiring.cluster_arn,
            task_definition=self.task_definition.arn,
            desired_count=service.desired_count,
            capacity_provider_strategy=[
                ecs_service.EcsServiceCapacityProviderStrategy(
                    capacity_provider=wiring.capacity_provider_name, weight=1, base=0
                )
            ],
            deployment_circuit_breaker={"enable": True, "rollback": True},
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            health_check_grace_period_seconds=settings.health_check_grace_period
            if wiring.target_group_arn
            else None,
            load_balancer=[
                ecs_service.EcsServiceLoadBalancer(
                    target_group_arn=wiring.target_group_arn,
                    container_name=service.container_name,
                    container_port=route.port,
                )
            ]
            if wiring.target_group_arn
            else None,
            service_connect_configuration=service_connect(route, wiring.namespace_arn),
            # Spread replicas across zones first, then pack instances by memory to keep their count low.
            ordered_placement_strategy=[
                ecs_service.EcsServiceOrderedPlacementStrategy(
                    type="spread", field="attribute:ecs.availability-zone"
                ),
                ecs_service.EcsServiceOrderedPlacementStrategy(type="binpack", field="memory"),
            ],
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            depends_on=[*wiring.depends_on, execution_role.policy],
            # Service auto scaling owns the desired count after creation.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["desired_count"]),
        )
        self._auto_scaling(route, service, settings, wiring)

    def _execution_role(self, route: ServiceRoute, settings: Settings, wiring: ServiceWiring) -> ServiceRole:
        statements = [
            # GetAuthorizationToken has no resource to scope to.
            allow(["ecr:GetAuthorizationToken"], ["*"]),
            allow(
                ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                [wiring.repository_arn],
            ),
            allow(["logs:CreateLogStream", "logs:PutLogEvents"], [f"{self.log_group.arn}:*"]),
        ]
        if wiring.secrets:
            statements.append(allow(["ssm:GetParameters"], sorted(wiring.secrets.values())))
        return ServiceRole(
            self,
            "execution-role",
            name=f"{settings.cluster_name}-{route.name}-execution",
            principal="ecs-tasks.amazonaws.com",
            statements=statements,
        )

    def _auto_scaling(
        self, route: ServiceRoute, service: ServiceSettings, settings: Settings, wiring: ServiceWiring
    ) -> None:
        target = appautoscaling_target.AppautoscalingTarget(
            self,
            "scaling-target",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=f"service/{wiring.cluster_name}/{self.service.name}",
            min_capacity=service.min_count,
            max_capacity=service.max_count,
        )
        metrics = {"cpu": ("ECSServiceAverageCPUUtilization", service.cpu_target_value, None)}
        if wiring.request_count_label:
            metrics["requests"] = (
                "ALBRequestCountPerTarget",
                service.requests_per_target,
                wiring.request_count_label,
            )
        for key, (metric, value, label) in metrics.items():
            appautoscaling_policy.AppautoscalingPolicy(
                self,
                f"scale-on-{key}",
                name=f"{settings.cluster_name}-{route.name}-{key}",
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension,
                resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration={
                    "target_value": value,
                    "predefined_metric_specification": {
                        "predefined_metric_type": metric,
                        "resource_label": label,
                    },
                    "scale_in_cooldown": settings.scale_in_cooldown,
                    "scale_out_cooldown": settings.scale_out_cooldown,
                },
            )
