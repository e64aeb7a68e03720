"""The ``objdepth`` stack: composes the constructs, wires them together and declares the outputs.

The outputs' names are a contract: ``make deploy`` reads them, and the ones named after the original
Terraform's outputs keep its meaning (see docs/deployment.md).
"""

from __future__ import annotations

from cdktf_app import app_metrics
from cdktf_app.cdk import (
    Construct,
    LocalBackend,
    S3Backend,
    TerraformOutput,
    TerraformStack,
    data_aws_caller_identity,
    provider,
)
from cdktf_app.config import Settings, SettingsError
from cdktf_app.constructs.alert_topic import AlertTopic
from cdktf_app.constructs.cluster import Cluster
from cdktf_app.constructs.dashboard import Dashboard, DashboardService
from cdktf_app.constructs.ecr import ImageRepository
from cdktf_app.constructs.load_balancer import SIGN_OUT_RULE_PRIORITY, LoadBalancer
from cdktf_app.constructs.monitoring import MonitoredService, Monitoring
from cdktf_app.constructs.network import Network
from cdktf_app.constructs.service import EcsService, ServiceWiring
from cdktf_app.constructs.sign_in import SESSION_COOKIE, SignIn
from cdktf_app.constructs.sign_out import SIGN_OUT_PATH, SignOut
from cdktf_app.constructs.waf import WebAcl
from cdktf_app.gpu import runs_on_gpu
from delivery.routes import SERVICES, ServiceRoute

STACK_NAME = "objdepth"
COOKIE_SECRET_ENV = "STREAMLIT_SERVER_COOKIE_SECRET"
API_KEYS_ENV = "API_KEYS"
# Terraform 1.10 brought the S3 backend's native lock file (use_lockfile); import blocks need 1.5.
REQUIRED_TERRAFORM = ">= 1.10.0"
# The local backend's state file, relative to cdktf.out/stacks/objdepth/: the repository root.
LOCAL_STATE_PATH = "../../../terraform.objdepth.tfstate"


def api_url_variable(route: ServiceRoute) -> str:
    """The UI's environment variable holding an API's base URL (``DETECTION_API_URL``)."""
    return f"{route.name.upper()}_API_URL"


def service_environment(
    route: ServiceRoute, settings: Settings, base_url: str, page_env: dict[str, str] | None = None
) -> dict[str, str]:
    """Plain environment of one service's container (no secrets).

    The APIs get their path prefix, server sizing and the browser origins CORS allows (the configured
    ones, else only the platform's own URL); the UI gets each API's base URL inside the VPC
    (``http://detection:5001/yoloapi``, answered through ECS Service Connect, never the internet),
    and ``page_env`` (with sign-in: what ``ui/identity.py`` checks the identity header against).
    """
    service = settings.services[route.name]
    if route.is_default_route:
        urls = {api_url_variable(api): api.internal_url for api in SERVICES if api is not route}
        return {**urls, "LOG_LEVEL": service.log_level, **(page_env or {})}
    return {
        "PATH_PREFIX": route.path_prefix,
        "LOG_LEVEL": service.log_level,
        "GUNICORN_WORKERS": str(service.gunicorn_workers),
        "GUNICORN_THREADS": str(service.gunicorn_threads),
        "DEVICE": "cuda" if runs_on_gpu(settings, route) else "cpu",
        "CORS_ORIGINS": ",".join(settings.cors_allowed_origins) or base_url,
        **app_metrics.pipeline_environment(settings),
    }


def service_secrets(route: ServiceRoute, settings: Settings, parameter_arn) -> dict[str, str]:
    """Environment variable -> SSM parameter ARN, read by ECS at task start (never stored in clear).

    The UI signs its cookies with the cookie secret. With ``public_apis`` every API checks API keys and
    the UI sends the first of them, so all three read the keys parameter.
    """
    secrets = (
        {COOKIE_SECRET_ENV: parameter_arn(settings.cookie_secret_parameter)} if route.is_default_route else {}
    )
    if settings.public_apis:
        secrets[API_KEYS_ENV] = parameter_arn(settings.api_keys_parameter)
    return secrets


class ObjDepthStack(TerraformStack):
    """Everything the platform needs in one AWS account and region.

    Attributes: ``network``, ``load_balancer``, ``cluster``, ``repositories`` and ``services`` (both keyed
    by service name), ``sign_in`` and ``sign_out`` (``None`` with an open page), ``monitoring``,
    ``dashboard``.
    """

    def __init__(self, scope: Construct, id_: str, settings: Settings) -> None:
        super().__init__(scope, id_)
        missing = settings.unresolved()
        if missing:
            raise SettingsError("cannot synthesize yet:\n  " + "\n  ".join(missing))
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
        self._backend(settings)
        identity = data_aws_caller_identity.DataAwsCallerIdentity(self, "identity")

        self.network = Network(self, "network", settings)
        self.repositories = {
            route.name: ImageRepository(
                self, f"ecr-{route.name}", name=settings.services[route.name].image_name, settings=settings
            )
            for route in SERVICES
        }
        self.load_balancer = LoadBalancer(
            self, "load-balancer", settings=settings, network=self.network, account_id=identity.account_id
        )
        self.sign_in = self.sign_out = None
        if settings.sign_in_enabled:
            self._sign_in(settings, identity.account_id)
        self.web_acl = None
        if settings.waf_enabled:
            self.web_acl = WebAcl(
                self,
                "waf",
                name=settings.cluster_name,
                alb_arn=self.load_balancer.alb.arn,
                rate_limit=settings.waf_rate_limit,
                log_retention_days=settings.log_retention_days,
            )
        self.cluster = Cluster(
            self,
            "cluster",
            settings=settings,
            network=self.network,
            alb_security_group_id=self.load_balancer.security_group.id,
        )

        def parameter_arn(name: str) -> str:
            return f"arn:{settings.partition}:ssm:{settings.aws_region}:{identity.account_id}:parameter{name}"

        self.services: dict[str, EcsService] = {}
        # The APIs first: the web page's Service Connect client needs their endpoints to exist.
        for route in sorted(SERVICES, key=lambda r: r.is_default_route):
            self.services[route.name] = EcsService(
                self,
                f"service-{route.name}",
                route=route,
                settings=settings,
                wiring=self._wiring(route, settings, service_secrets(route, settings, parameter_arn)),
            )
        self.alerts = AlertTopic(
            self,
            "alerts",
            name=f"{settings.cluster_name}-alarms",
            partition=settings.partition,
            account_id=identity.account_id,
            email=settings.alarm_email,
            service_arns=[service.service.id for service in self.services.values()],
        )
        self.monitoring = Monitoring(
            self,
            "monitoring",
            settings=settings,
            topic_arn=self.alerts.topic.arn,
            alb_arn_suffix=self.load_balancer.alb.arn_suffix,
            services={
                route.name: MonitoredService(
                    target_group_arn_suffix=self._target_group_attribute(route, "arn_suffix"),
                    ecs_service_name=self.services[route.name].service.name,
                    response_time_alarm_seconds=settings.services[route.name].response_time_alarm_seconds,
                    discovery_name=route.name,
                    min_tasks=settings.services[route.name].min_count,
                    api_route=route if app_metrics.is_api(route) else None,
                    latency_p95_alarm_seconds=settings.services[route.name].latency_p95_alarm_seconds,
                )
                for route in SERVICES
            },
        )
        self.dashboard = Dashboard(
            self,
            "dashboard",
            settings=settings,
            services={
                route.name: DashboardService(
                    route=route,
                    ecs_service_name=self.services[route.name].service.name,
                    target_group_arn_suffix=self._target_group_attribute(route, "arn_suffix"),
                )
                for route in SERVICES
            },
            alb_arn_suffix=self.load_balancer.alb.arn_suffix,
            capacity_providers={
                "reservation": self.cluster.capacity_provider.name,
                **({"GPU reservation": self.cluster.gpu_capacity_provider.name} if settings.gpu else {}),
            },
        )
        self._outputs(settings)

    def _backend(self, settings: Settings) -> None:
        """Remote state in S3 (versioned, encrypted, locked; ``make deploy`` makes the bucket) or local."""
        self.add_override("terraform.required_version", REQUIRED_TERRAFORM)
        if settings.state_backend == "local":
            LocalBackend(self, path=LOCAL_STATE_PATH)
            return
        S3Backend(
            self,
            bucket=settings.state_bucket_name,
            key=settings.state_key,
            region=settings.aws_region,
            encrypt=True,
        )
        # S3-native state locking (Terraform >= 1.10); this cdktf release has no argument for it.
        self.add_override("terraform.backend.s3.use_lockfile", True)

    def _sign_in(self, settings: Settings, account_id: str) -> None:
        """The authenticating rule (``SignIn``) and ``/signout`` (``SignOut``) on the HTTPS listener."""
        self.sign_in = SignIn(
            self,
            "sign-in",
            settings=settings,
            account_id=account_id,
            listener_arn=self.load_balancer.listener.arn,
            page_target_group_arn=self.load_balancer.page_target_group.arn,
        )
        self.sign_out = SignOut(
            self,
            "sign-out",
            name=settings.cluster_name,
            listener_arn=self.load_balancer.listener.arn,
            priority=SIGN_OUT_RULE_PRIORITY,
            session_cookie=SESSION_COOKIE,
            signed_out_url=self.sign_in.signed_out_url,
            logout_url=self.sign_in.logout_url,
            logout_query=self.sign_in.logout_query,
            log_retention_days=settings.log_retention_days,
        )

    def _target_group_attribute(self, route: ServiceRoute, attribute: str) -> str:
        """An attribute of the service's target group; "" when the service is not behind the load balancer."""
        group = self.load_balancer.target_groups.get(route.name)
        return getattr(group, attribute) if group is not None else ""

    def _wiring(self, route: ServiceRoute, settings: Settings, secrets: dict[str, str]) -> ServiceWiring:
        repository = self.repositories[route.name].repository
        suffix = self._target_group_attribute(route, "arn_suffix")
        capacity = self.cluster.gpu_capacity_provider if runs_on_gpu(settings, route) else None
        return ServiceWiring(
            cluster_arn=self.cluster.cluster.arn,
            cluster_name=self.cluster.cluster.name,
            capacity_provider_name=(capacity or self.cluster.capacity_provider).name,
            repository_url=repository.repository_url,
            repository_arn=repository.arn,
            namespace_arn=self.cluster.namespace.arn,
            target_group_arn=self._target_group_attribute(route, "arn"),
            request_count_label=f"{self.load_balancer.alb.arn_suffix}/{suffix}" if suffix else "",
            environment=service_environment(
                route, settings, self.load_balancer.base_url, self._page_sign_in_env(settings)
            ),
            secrets=secrets,
            # A target group must be attached to a listener before a service can register in it; the web
            # page's client can only resolve the APIs once their services exist.
            depends_on=[
                self.cluster.capacity_providers,
                self.load_balancer.listener,
                *self.load_balancer.rules,
                *([s.service for s in self.services.values()] if route.is_default_route else []),
            ],
        )

    def _page_sign_in_env(self, settings: Settings) -> dict[str, str]:
        """What the page verifies the load balancer's identity header against (``ui/identity.py``)."""
        if self.sign_in is None:
            return {}
        return {
            "SIGN_IN_SIGNER": self.load_balancer.alb.arn,
            "SIGN_IN_REGION": settings.aws_region,
            "SIGN_OUT_URL": f"{self.load_balancer.base_url}{SIGN_OUT_PATH}",
        }

    def _outputs(self, settings: Settings) -> None:
        base_url = self.load_balancer.base_url
        apis = {route.name: route for route in SERVICES if not route.is_default_route}

        def api_url(name: str) -> str:
            return f"{base_url}{apis[name].path_prefix}" if settings.public_apis else apis[name].internal_url

        where = "public, behind API keys" if settings.public_apis else "inside the VPC only (Service Connect)"
        outputs = {
            "alb_dns_name": (self.load_balancer.alb.dns_name, "DNS name of the load balancer"),
            "ui_url": (f"{base_url}/", "The web UI"),
            "detection_api_url": (api_url("detection"), f"Detection API base URL ({where})"),
            "depth_api_url": (api_url("depth"), f"Depth API base URL ({where})"),
            "public_apis": (settings.public_apis, "Whether the load balancer routes the API prefixes"),
            "page_access": (settings.page_access, "Who may use the page: open, cognito or oidc sign-in"),
            "user_pool_id": (
                self.sign_in.user_pool.id if self.sign_in and self.sign_in.user_pool else "",
                "Cognito user pool the operator adds users to; empty unless page_access = cognito",
            ),
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
            "alarm_topic_arn": (self.alerts.topic.arn, "SNS topic every alarm and failed deployment goes to"),
            # The original Terraform's outputs, where their resource exists here.
            "region": (settings.aws_region, "AWS region of the deployment"),
            "vpc_id": (self.network.vpc.id, "VPC"),
            "public_subnet_ids": (self.network.public_subnet_ids, "Public subnets (load balancer)"),
            "private_subnet_ids": (
                self.network.private_subnet_ids,
                "Private subnets (instances); empty if none",
            ),
            "alb_security_group_id": (
                self.load_balancer.security_group.id,
                "Security group of the load balancer",
            ),
            "ecs_security_group_id": (
                self.cluster.security_group.id,
                "Security group of the container instances",
            ),
            "ecs_instance_role_name": (
                self.cluster.instance_role.role.name,
                "IAM role of the container instances",
            ),
            "ecs_instance_role_arn": (self.cluster.instance_role.role.arn, "ARN of that role"),
            "alb_name": (self.load_balancer.alb.name, "Name of the load balancer"),
            "alb_zone_id": (
                self.load_balancer.alb.zone_id,
                "Route 53 zone id of the load balancer (alias records)",
            ),
            "target_group_arns": (
                {name: group.arn for name, group in self.load_balancer.target_groups.items()},
                "Target group ARN per service behind the load balancer",
            ),
        }
        for output_id, (value, description) in outputs.items():
            TerraformOutput(self, output_id, value=value, description=description)
