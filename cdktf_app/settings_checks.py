"""Settings that must agree with each other: checked once each setting is valid on its own.

:class:`cdktf_app.config.Settings` calls :func:`check_consistent` after validating every field; each
check raises ``ValueError`` with a message that names the settings involved.
"""

from __future__ import annotations

import ipaddress
import itertools
from typing import TYPE_CHECKING

from cdktf_app.gpu import check_gpu

if TYPE_CHECKING:
    from cdktf_app.config import Settings

# The production profile keeps at least this many logs days (the review asked for 30).
PRODUCTION_MIN_LOG_DAYS = 30

# Least memory (MiB) a container needs to load its model and answer a request; below it the task is
# killed for memory while starting, so synth refuses such a setting.
MIN_CONTAINER_MEMORY_MIB = {"detection": 1024, "depth": 1536, "ui": 256}


def check_consistent(settings: Settings) -> None:
    """Settings that must agree with each other, checked once each is valid on its own."""
    if not settings.asg_min_size <= settings.asg_desired_capacity <= settings.asg_max_size:
        raise ValueError(
            f"asg_min_size ({settings.asg_min_size}) <= asg_desired_capacity "
            f"({settings.asg_desired_capacity}) <= asg_max_size ({settings.asg_max_size}) does not hold"
        )
    if settings.health_check_timeout >= settings.health_check_interval:
        raise ValueError(
            f"health_check_timeout ({settings.health_check_timeout}) must be shorter than "
            f"health_check_interval ({settings.health_check_interval})"
        )
    if settings.http_listener_port == settings.https_listener_port:
        raise ValueError("http_listener_port and https_listener_port must differ")
    if settings.certificate_arn and not settings.domain_name:
        raise ValueError("certificate_arn is set, so domain_name (the name on the certificate) is needed too")
    if settings.hosted_zone_id and not settings.domain_name:
        raise ValueError("hosted_zone_id is set, so domain_name (the record to create) is needed too")
    if bool(settings.key_name) != bool(settings.ssh_allowed_cidr):
        raise ValueError("SSH needs both key_name and ssh_allowed_cidr; set both or neither")
    if settings.availability_zones:
        if len(settings.availability_zones) != len(settings.public_subnet_cidrs):
            raise ValueError("availability_zones needs one zone per entry of public_subnet_cidrs")
        strays = [zone for zone in settings.availability_zones if not zone.startswith(settings.aws_region)]
        if strays:
            raise ValueError(
                f"availability_zones: {strays} are not zones of aws_region {settings.aws_region}"
            )
    if len(settings.private_subnet_cidrs) != len(settings.public_subnet_cidrs):
        raise ValueError("private_subnet_cidrs needs as many subnets as public_subnet_cidrs")
    check_subnets_fit(settings)
    if settings.profile == "production":
        check_production(settings)
    check_sign_in(settings)
    check_gpu(settings)
    for name, service in settings.services.items():
        floor = MIN_CONTAINER_MEMORY_MIB[name]
        if service.container_memory < floor:
            raise ValueError(
                f"services.{name}.container_memory ({service.container_memory} MiB) is below the "
                f"{floor} MiB the {name} container needs"
            )


def check_sign_in(settings: Settings) -> None:
    """Sign-in needs HTTPS, and ``oidc`` needs its provider's endpoints, client id and secret name."""
    if settings.page_access == "open":
        return
    if not settings.https_enabled:
        raise ValueError(
            f"page_access = {settings.page_access!r} needs HTTPS: the load balancer authenticates only on "
            "an HTTPS listener (sign-in cookies and tokens must never travel in clear). Set "
            'certificate_arn and domain_name, or keep page_access = "open"'
        )
    if settings.page_access == "oidc":
        needed = (
            "oidc_issuer",
            "oidc_authorization_endpoint",
            "oidc_token_endpoint",
            "oidc_user_info_endpoint",
            "oidc_client_id",
            "oidc_client_secret_name",
        )
        missing = [name for name in needed if not getattr(settings, name)]
        if missing:
            raise ValueError(f"page_access = 'oidc' needs {', '.join(missing)}")


def check_production(settings: Settings) -> None:
    """What the production profile promises; a file that weakens it is refused, naming each point."""
    problems = []
    if not settings.certificate_arn:
        problems.append("certificate_arn: production serves HTTPS only; give an ACM certificate")
    if settings.page_access == "open":
        problems.append('page_access: production signs users in ("cognito" or "oidc"), never "open"')
    if settings.asg_min_size < 2 or len(settings.public_subnet_cidrs) < 2:
        problems.append("asg_min_size: production keeps at least two instances in two zones")
    for name, service in settings.services.items():
        if service.min_count < 2:
            problems.append(f"services.{name}.min_count: production runs at least two tasks per service")
    if settings.gpu and settings.gpu_asg_min_size < 2:
        problems.append("gpu_asg_min_size: production keeps at least two GPU instances in two zones")
    if settings.instance_type.startswith("t"):
        problems.append(f"instance_type: {settings.instance_type} is burstable; production needs steady CPU")
    if not settings.enable_waf:
        problems.append("enable_waf: production puts a WAF web ACL on the load balancer")
    if not settings.access_logs_enabled:
        problems.append("alb_access_logs: production keeps the load balancer's access logs")
    if not settings.alb_deletion_protection:
        problems.append("alb_deletion_protection: production protects the load balancer from deletion")
    if settings.log_retention_days < PRODUCTION_MIN_LOG_DAYS:
        problems.append(f"log_retention_days: production keeps logs {PRODUCTION_MIN_LOG_DAYS}+ days")
    if problems:
        raise ValueError("profile production: " + "; ".join(problems))


def check_subnets_fit(settings: Settings) -> None:
    """Every subnet inside the VPC, none overlapping another."""
    vpc = ipaddress.IPv4Network(settings.vpc_cidr)
    named = [("public_subnet_cidrs", c) for c in settings.public_subnet_cidrs]
    if settings.enable_private_subnets:
        named += [("private_subnet_cidrs", c) for c in settings.private_subnet_cidrs]
    for setting, cidr in named:
        if not ipaddress.IPv4Network(cidr).subnet_of(vpc):
            raise ValueError(f"{setting}: {cidr} is not inside vpc_cidr {settings.vpc_cidr}")
    for (name_a, a), (name_b, b) in itertools.combinations(named, 2):
        if ipaddress.IPv4Network(a).overlaps(ipaddress.IPv4Network(b)):
            raise ValueError(f"{name_a}/{name_b}: {a} overlaps {b}")
