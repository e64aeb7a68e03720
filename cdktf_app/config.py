"""The deployment's settings: one typed, validated object (:mod:`cdktf_app.settings_file` reads it).

``settings.toml`` documents each setting; this module states their types and limits, the formats are in
:mod:`cdktf_app.setting_types` and the cross-setting checks in :mod:`cdktf_app.settings_checks`. Ports,
path prefixes and health paths are not settings (``delivery/routes.py``), nor are secrets (SSM).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from cdktf_app.gpu import GpuFields
from cdktf_app.setting_types import (
    _ACCOUNT_ID,
    _ACM_ARN,
    _AWS_NAME,
    _COGNITO_PREFIX,
    _DOMAIN,
    _ECR_REPOSITORY,
    _EMAIL,
    _HTTPS_URL,
    _IMAGE_TAG,
    _INSTANCE_TYPE,
    _ORIGIN,
    _REGION,
    _S3_BUCKET,
    _SECRET_NAME,
    _SSM_NAME,
    AwsName,
    ElbName,
    Formats,
    Percent,
    Port,
    Positive,
    _Strict,
    _subnet,
)
from cdktf_app.settings_checks import check_consistent
from delivery.routes import SERVICES, by_name

PROFILES = ("demo", "production")

# What ECS Service Connect's proxy container needs inside each task on top of the app's container
# (AWS suggests 256 CPU units and 64 MiB for Fargate; on EC2 CPU units are shares, so 128 are kept).
PROXY_CPU_UNITS = 128
PROXY_MEMORY_MIB = 64

# Who may use the page when the settings leave page_access empty.
PROFILE_PAGE_ACCESS = {"demo": "open", "production": "cognito"}

# Retention periods CloudWatch Logs accepts.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557)


class SettingsError(ValueError):
    """Raised when the settings file or an override is invalid; the message names every bad setting."""


class ServiceSettings(_Strict):
    """Settings of one of the three services (a ``[services.<name>]`` table of the settings file)."""

    image_name: str
    image_tag: str = ""
    container_name: AwsName
    service_name: AwsName
    task_family: AwsName
    target_group_name: ElbName
    container_cpu: Annotated[int, Field(ge=0, le=10240)]
    container_memory: Positive
    container_memory_reservation: Positive
    task_cpu: Annotated[int, Field(ge=128, le=10240)]
    task_memory: Positive
    desired_count: Annotated[int, Field(ge=0)]
    min_count: Annotated[int, Field(ge=0)]
    max_count: Positive
    cpu_target_value: Percent
    requests_per_target: Positive
    response_time_alarm_seconds: Annotated[float, Field(gt=0)]
    # p95 of the predict endpoint's latency (the API's own histogram) above which an alarm fires; 0 = none.
    latency_p95_alarm_seconds: Annotated[float, Field(ge=0)] = 0.0
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"]
    gunicorn_workers: Positive
    gunicorn_threads: Positive
    readonly_root_filesystem: bool

    _FORMATS: ClassVar[Formats] = {
        "image_name": (_ECR_REPOSITORY, "an ECR repository name (lowercase, e.g. yoloflask/api)", False),
        "image_tag": (_IMAGE_TAG, "an image tag", True),
    }

    @model_validator(mode="after")
    def _sizes_agree(self) -> ServiceSettings:
        if self.container_memory_reservation > self.container_memory:
            raise ValueError(
                f"container_memory_reservation ({self.container_memory_reservation}) must not exceed "
                f"container_memory ({self.container_memory})"
            )
        if self.container_memory + PROXY_MEMORY_MIB > self.task_memory:
            raise ValueError(
                f"container_memory ({self.container_memory}) + {PROXY_MEMORY_MIB} MiB for the Service "
                f"Connect proxy must not exceed task_memory ({self.task_memory})"
            )
        if self.container_cpu + PROXY_CPU_UNITS > self.task_cpu:
            raise ValueError(
                f"container_cpu ({self.container_cpu}) + {PROXY_CPU_UNITS} units for the Service Connect "
                f"proxy must not exceed task_cpu ({self.task_cpu})"
            )
        if not self.min_count <= self.desired_count <= self.max_count:
            raise ValueError(
                f"min_count ({self.min_count}) <= desired_count ({self.desired_count}) <= "
                f"max_count ({self.max_count}) does not hold"
            )
        return self


class Settings(GpuFields):
    """Everything the stack needs to know, validated; see ``settings.toml`` for what each setting means.

    The GPU capacity's settings (``gpu``, ``gpu_instance_type``, ...) come from :class:`GpuFields`.
    """

    # Profile, account and naming
    profile: Literal["demo", "production"]
    cluster_name: Annotated[str, Field(pattern=_AWS_NAME.pattern, max_length=32)]
    aws_region: str
    aws_account_id: str
    state_backend: Literal["s3", "local"]
    state_bucket: str
    state_key: str
    # Network
    vpc_cidr: str
    availability_zones: list[str]
    public_subnet_cidrs: list[str]
    enable_private_subnets: bool
    private_subnet_cidrs: list[str]
    enable_flow_logs: bool
    # Instances
    instance_type: str
    ami_ssm_parameter: str
    root_volume_size: Annotated[int, Field(ge=30, le=16384)]
    asg_min_size: Annotated[int, Field(ge=0)]
    asg_max_size: Positive
    asg_desired_capacity: Annotated[int, Field(ge=0)]
    capacity_target_percent: Annotated[int, Field(ge=1, le=100)]
    key_name: str
    ssh_allowed_cidr: str
    # Load balancer
    alb_name: ElbName
    http_listener_port: Port
    https_listener_port: Port
    certificate_arn: str
    domain_name: str
    hosted_zone_id: str
    ssl_policy: str
    alb_idle_timeout: Annotated[int, Field(ge=1, le=4000)]
    alb_deletion_protection: bool
    alb_access_logs: bool
    alb_access_logs_bucket: str
    deregistration_delay: Annotated[int, Field(ge=0, le=3600)]
    ui_stickiness_duration: Annotated[int, Field(ge=1, le=604800)]
    health_check_interval: Annotated[int, Field(ge=5, le=300)]
    health_check_timeout: Annotated[int, Field(ge=2, le=120)]
    health_check_healthy_threshold: Annotated[int, Field(ge=2, le=10)]
    health_check_unhealthy_threshold: Annotated[int, Field(ge=2, le=10)]
    health_check_matcher: str
    health_check_grace_period: Annotated[int, Field(ge=0, le=2147483647)]
    container_health_check_start_period: Annotated[int, Field(ge=0, le=300)]
    # Who may use the page (sign-in at the load balancer)
    page_access: Literal["open", "cognito", "oidc"]
    session_timeout: Annotated[int, Field(ge=60, le=604800)]
    cognito_domain_prefix: str
    oidc_issuer: str
    oidc_authorization_endpoint: str
    oidc_token_endpoint: str
    oidc_user_info_endpoint: str
    oidc_logout_endpoint: str
    oidc_client_id: str
    oidc_client_secret_name: str
    oidc_scope: str
    # Who may reach the APIs
    public_apis: bool
    api_keys_parameter: str
    cors_allowed_origins: list[str]
    enable_waf: bool
    waf_rate_limit: Annotated[int, Field(ge=10, le=2_000_000_000)]
    service_connect_namespace: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{0,62}$")]
    # Images
    image_tag: str
    image_tag_parameter: str
    ecr_image_tag_mutability: Literal["IMMUTABLE", "MUTABLE"]
    ecr_max_image_count: Positive
    ecr_untagged_expiry_days: Positive
    ecr_force_delete: bool
    # Secrets (names only)
    cookie_secret_parameter: str
    # Scaling and monitoring
    scale_in_cooldown: Annotated[int, Field(ge=0)]
    scale_out_cooldown: Annotated[int, Field(ge=0)]
    log_retention_days: int
    cpu_alarm_threshold: Percent
    memory_alarm_threshold: Percent
    alarm_period: Annotated[int, Field(ge=10)]
    alarm_evaluation_periods: Positive
    alb_5xx_alarm_threshold: Positive
    alarm_email: str
    # API metrics in CloudWatch (embedded metric format), the dashboard and the alarms on them
    metrics_namespace: AwsName
    metrics_publish_interval: Annotated[int, Field(ge=10, le=300)]
    shed_share_alarm_percent: Percent
    shed_alarm_minutes: Positive
    model_not_ready_alarm_minutes: Positive
    # The three services, keyed by their name in delivery/routes.py
    services: dict[str, ServiceSettings]

    _FORMATS: ClassVar[Formats] = {
        **GpuFields._FORMATS,
        "aws_region": (_REGION, "an AWS region such as us-east-1", False),
        "aws_account_id": (_ACCOUNT_ID, "a 12-digit AWS account id", True),
        "instance_type": (_INSTANCE_TYPE, "an EC2 instance type such as t3.large", False),
        "certificate_arn": (_ACM_ARN, "an ACM certificate ARN", True),
        "domain_name": (_DOMAIN, "a domain name", True),
        "image_tag": (_IMAGE_TAG, "an image tag", True),
        "cookie_secret_parameter": (_SSM_NAME, "an SSM parameter name starting with /", False),
        "api_keys_parameter": (_SSM_NAME, "an SSM parameter name starting with /", False),
        "image_tag_parameter": (_SSM_NAME, "an SSM parameter name starting with /", False),
        "state_bucket": (_S3_BUCKET, "an S3 bucket name", True),
        "alb_access_logs_bucket": (_S3_BUCKET, "an S3 bucket name", True),
        "alarm_email": (_EMAIL, "an email address", True),
        "cognito_domain_prefix": (_COGNITO_PREFIX, "a Cognito domain prefix (lowercase, digits, -)", True),
        "oidc_issuer": (_HTTPS_URL, "an https:// URL", True),
        "oidc_authorization_endpoint": (_HTTPS_URL, "an https:// URL", True),
        "oidc_token_endpoint": (_HTTPS_URL, "an https:// URL", True),
        "oidc_user_info_endpoint": (_HTTPS_URL, "an https:// URL", True),
        "oidc_logout_endpoint": (_HTTPS_URL, "an https:// URL", True),
        "oidc_client_secret_name": (_SECRET_NAME, "a Secrets Manager secret name or ARN", True),
    }

    @field_validator("vpc_cidr")
    @classmethod
    def _vpc_cidr(cls, value: str) -> str:
        network = _subnet(value)
        if not 16 <= network.prefixlen <= 28:
            raise ValueError(f"{value!r}: a VPC's prefix length must be between /16 and /28")
        return value

    @field_validator("public_subnet_cidrs", "private_subnet_cidrs")
    @classmethod
    def _subnets(cls, value: list[str]) -> list[str]:
        if len(value) < 2:
            raise ValueError("give at least two subnets, one per availability zone")
        for cidr in value:
            _subnet(cidr)
        return value

    @field_validator("cors_allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        bad = [origin for origin in value if not _ORIGIN.fullmatch(origin)]
        if bad:
            raise ValueError(f"{bad} are not origins such as https://app.example.com (no path, no *)")
        return value

    @field_validator("ami_ssm_parameter", "gpu_ami_ssm_parameter")
    @classmethod
    def _ami(cls, value: str) -> str:
        if not value.startswith("/aws/service/ecs/"):
            raise ValueError(
                f"{value!r} is not one of the public ECS-optimized AMI parameters (/aws/service/ecs/…)"
            )
        return value

    @field_validator("ssh_allowed_cidr")
    @classmethod
    def _ssh_cidr(cls, value: str) -> str:
        if value and _subnet(value).prefixlen == 0:
            raise ValueError(
                "SSH from the whole internet (0.0.0.0/0) is refused; give your own address range"
            )
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"{value} is not a CloudWatch Logs retention; pick one of {LOG_RETENTION_DAYS}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _default_page_access(cls, data: Any) -> Any:
        """``page_access = ""`` takes the profile's default: ``open`` in demo, ``cognito`` in production."""
        if isinstance(data, dict) and data.get("page_access", "") == "":
            return {**data, "page_access": PROFILE_PAGE_ACCESS.get(data.get("profile"), "open")}
        return data

    @model_validator(mode="before")
    @classmethod
    def _services_match_routes(cls, data: Any) -> Any:
        """One table per service of ``delivery/routes.py``; a carried-over ``container_port`` must agree."""
        if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
            return data
        expected = sorted(service.name for service in SERVICES)
        if sorted(data["services"]) != expected:
            raise ValueError(f"services: need exactly the tables {expected}, got {sorted(data['services'])}")
        tables = {}
        for name, table in data["services"].items():
            if isinstance(table, dict) and "container_port" in table:
                table = dict(table)
                port, fixed = table.pop("container_port"), by_name(name).port
                if port != fixed:
                    raise ValueError(
                        f"services.{name}.container_port ({port}) is fixed by delivery/routes.py ({fixed}); "
                        "remove the setting, or change the routes table and the image together"
                    )
            tables[name] = table
        return {**data, "services": tables}

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        check_consistent(self)
        return self

    @property
    def waf_enabled(self) -> bool:
        """A WAF web ACL guards the load balancer: asked for, or implied by public API routes."""
        return self.enable_waf or self.public_apis

    @property
    def access_logs_enabled(self) -> bool:
        """The load balancer writes access logs (``alb_access_logs_bucket``, or a bucket the stack makes)."""
        return self.alb_access_logs or bool(self.alb_access_logs_bucket)

    @property
    def state_bucket_name(self) -> str:
        """The S3 bucket of the Terraform state: ``state_bucket``, else one named after account and region.

        Empty when neither ``state_bucket`` nor the account id is known (``cdktf_app.resolve`` asks AWS).
        """
        if self.state_bucket or not self.aws_account_id:
            return self.state_bucket
        return f"{self.cluster_name}-tfstate-{self.aws_account_id}-{self.aws_region}"[:63].rstrip("-.")

    @property
    def https_enabled(self) -> bool:
        """True when a certificate is given: HTTPS listener, HTTP redirected to it."""
        return bool(self.certificate_arn)

    @property
    def sign_in_enabled(self) -> bool:
        """True when the load balancer signs users in before forwarding them to the page."""
        return self.page_access != "open"

    @property
    def ssh_enabled(self) -> bool:
        """True when both a key pair and an allowed CIDR are set."""
        return bool(self.key_name and self.ssh_allowed_cidr)

    @property
    def partition(self) -> str:
        """The AWS partition of ``aws_region``, for ARNs (``aws``, ``aws-us-gov``, ``aws-cn``)."""
        if "-gov-" in self.aws_region:
            return "aws-us-gov"
        return "aws-cn" if self.aws_region.startswith("cn-") else "aws"

    def image_tag_for(self, service: str) -> str:
        """The image tag the service runs: its own ``image_tag`` if set, else the global one."""
        return self.services[service].image_tag or self.image_tag

    def unresolved(self) -> list[str]:
        """What synth still lacks, each with how to supply it; empty when the stack can be built."""
        missing = []
        untagged = [name for name in self.services if not self.image_tag_for(name)]
        if untagged:
            missing.append(
                f"image_tag: no tag for {', '.join(untagged)}; run `make deploy` once (it records the tag it "
                f"pushed in the SSM parameter {self.image_tag_parameter}), or set IMAGE_TAG=<a pushed tag>"
            )
        if self.state_backend == "s3" and not self.state_bucket_name:
            missing.append(
                "state_bucket: the S3 state bucket is named after the account; set AWS_ACCOUNT_ID, sign in "
                'to AWS, or set state_bucket (state_backend = "local" for a throwaway synth)'
            )
        return missing
