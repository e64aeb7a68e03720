"""The ``objdepth`` stack: composes the constructs, wires them together and declares the outputs.

The outputs' names are a contract: ``make deploy`` reads them.
"""

from __future__ import annotations

from apis.routes import SERVICES, ServiceRoute
from cdktf_app.cdk import (
    Construct,
    S3Backend,
    TerraformOutput,
    TerraformStack,
    data_aws_caller_identity,
    provider,
)
from cdktf_app.config import Settings
from cdktf_app.constructs.cluster import Cluster
from cdktf_app.constructs.ecr import ImageRepository
from cdktf_app.constructs.load_balancer import LoadBalancer
from cdktf_app.constructs.monitoring import MonitoredService, Monitoring
from cdktf_app.constructs.network import Network
from cdktf_app.constructs.service import EcsService, ServiceWiring

STACK_NAME = "objdepth"
COOKIE_SECRET_ENV = "STREAMLIT_SERVER_COOKIE_SECRET"


def api_url_variable(route: ServiceRoute) -> str:
    """The UI's environment variable holding an API's base URL (``DETECTION_API_URL``)."""
    return f"{route.name.upper()}_API_URL"


def service_environment(route: ServiceRoute, settings: Settings, base_url: str) -> dict[str, str]:
    """Plain environment of one service's container (no secrets).

    The APIs get their path prefix and server sizing; the UI gets each API's base URL. The UI's server
    calls the APIs through the load balancer's public URL: with a certificate that is
    ``https://<domain_name>/<prefix>``, which the certificate covers and the HTTP→HTTPS redirect never
    touches (a redirected POST would arrive as a GET).
    """
    service = settings.services[route.name]
    if route.is_default_route:
        urls = {api_url_variable(api): f"{base_url}{api.path_prefix}" for api in SERVICES if api is not route}
        return {**urls, "LOG_LEVEL": service.log_level}
    return {
        "PATH_PREFIX": route.path_prefix,
        "LOG_LEVEL": service.log_level,
        "GUNICORN_WORKERS": str(service.gunicorn_workers),
        "GUNICORN_THREADS": str(service.gunicorn_threads),
        "DEVICE": "cpu",
    }


class ObjDepthStack(TerraformStack):
    """Everything the platform needs in one AWS account and region.

    Attributes: ``network``, ``load_balancer``, ``cluster``, ``repositories`` and ``services`` (both keyed
    by service name), ``monitoring``.
    """

    def __init__(self, scope: Construct, id_: str, settings: Settings) -> None:
        super().__init__(scope, id_)
        provider.AwsProvider(
            self,
            "aws",
            region=settings.aws_region,
            allowed_account_ids=[settings.aws_account_id] if settings.aws_account_id else None,
            default_tags=[
                provider.AwsProviderDefaultTags(
                    tags={"Project": STACK_NAME, "ManagedBy": "cdktf", "Cluster": settings.cluster_name}
                )
            ],
        )
        if settings.state_bucket:
            S3Backend(
                self,
                bucket=settings.state_bucket,
                key=settings.state_key,
                region=settings.aws_region,
                encrypt=True,
            )
            # S3-native state locking (Terraform >= 1.10); this cdktf release has no argument for it.
            self.add_override("terraform.backend.s3.use_lockfile", True)

        self.network = Network(self, "network", settings)
        self.repositories = {
            route.name: ImageRepository(
                self, f"ecr-{route.name}", name=settings.services[route.name].image_name, settings=settings
            )
            for route in SERVICES
        }
        self.load_balancer = LoadBalancer(self, "load-balancer", settings=settings, network=self.network)
        self.cluster = Cluster(
            self,
            "cluster",
            settings=settings,
            network=self.network,
            alb_security_group_id=self.load_balancer.security_group.id,
        )
        identity = data_aws_caller_identity.DataAwsCallerIdentity(self, "identity")
        cookie_secret_arn = (
            f"arn:{settings.partition}:ssm:{settings.aws_region}:{identity.account_id}"
            f":parameter{settings.cookie_secret_parameter}"
        )
        self.services = {
            route.name: EcsService(
                self,
                f"service-{route.name}",
                route=route,
                settings=settings,
                wiring=self._wiring(route, settings, cookie_secret_arn),
            )
            for route in SERVICES
        }
        self.monitoring = Monitoring(
            self,
            "monitoring",
            settings=settings,
            alb_arn_suffix=self.load_balancer.alb.arn_suffix,
            services={
                name: MonitoredService(
                    target_group_arn_suffix=self.load_balancer.target_groups[name].arn_suffix,
                    ecs_service_name=service.service.name,
                    response_time_alarm_seconds=settings.services[name].response_time_alarm_seconds,
                )
                for name, service in self.services.items()
            },
        )
        self._outputs()

    def _wiring(self, route: ServiceRoute, settings: Settings, cookie_secret_arn: str) -> ServiceWiring:
        repository = self.repositories[route.name].repository
        target_group = self.load_balancer.target_groups[route.name]
        return ServiceWiring(
            cluster_arn=self.cluster.cluster.arn,
            cluster_name=self.cluster.cluster.name,
            capacity_provider_name=self.cluster.capacity_provider.name,
            repository_url=repository.repository_url,
            repository_arn=repository.arn,
            target_group_arn=target_group.arn,
            request_count_label=f"{self.load_balancer.alb.arn_suffix}/{target_group.arn_suffix}",
            environment=service_environment(route, settings, self.load_balancer.base_url),
            secrets={COOKIE_SECRET_ENV: cookie_secret_arn} if route.is_default_route else {},
            # A target group must be attached to a listener before a service can register in it.
            depends_on=[
                self.cluster.capacity_providers,
                self.load_balancer.listener,
                *self.load_balancer.rules,
            ],
        )

    def _outputs(self) -> None:
        base_url = self.load_balancer.base_url
        by_name = {route.name: route for route in SERVICES}
        outputs = {
            "alb_dns_name": (self.load_balancer.alb.dns_name, "DNS name of the load balancer"),
            "ui_url": (f"{base_url}/", "The web UI"),
            "detection_api_url": (f"{base_url}{by_name['detection'].path_prefix}", "Detection API base URL"),
            "depth_api_url": (f"{base_url}{by_name['depth'].path_prefix}", "Depth API base URL"),
            "ecs_cluster_name": (self.cluster.cluster.name, "ECS cluster"),
            "ecs_service_names": (
                {name: s.service.name for name, s in self.services.items()},
                "ECS service name per service",
            ),
            "log_group_names": (
                {name: s.log_group.name for name, s in self.services.items()},
                "CloudWatch log group per service",
            ),
            "ecr_repository_urls": (
                {name: r.repository.repository_url for name, r in self.repositories.items()},
                "ECR repository URL per service",
            ),
        }
        for output_id, (value, description) in outputs.items():
            TerraformOutput(self, output_id, value=value, description=description)
