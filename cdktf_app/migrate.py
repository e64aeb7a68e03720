"""``python -m cdktf_app import-tfvars terraform.tfvars``: the original Terraform's variables as settings.

Reads the original ``terraform.tfvars`` (HCL), maps each variable to a setting of ``settings.toml``,
writes the settings file with those values (comments kept) once the result validates, and prints what
was mapped, which defaults differ from the original's, and what was dropped and why.

The original Terraform is not in this repository. The names below are the ones this repository records
for it (its ECR repository and container names, ``container_port``, the ``image_tag = "latest"``
default, the alarm-driven instance scaling) plus the conventional spellings of the same variables;
a variable not listed here is reported as unknown, never guessed at.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cdktf_app.config import SettingsError
from cdktf_app.settings_file import DEFAULT_SETTINGS_FILE, settings_from_dict

# Per-service variables of the original: "<prefix>_<suffix>" -> services.<service>.<setting>.
SERVICE_PREFIXES = {
    "detection": ("yolo", "yolo_api", "detection"),
    "depth": ("depth", "depth_api", "depthanything"),
    "ui": ("webapp", "frontend", "ui", "react"),
}
SERVICE_SUFFIXES = {
    "image": "image_name",
    "image_name": "image_name",
    "repository": "image_name",
    "ecr_repository": "image_name",
    "image_tag": "image_tag",
    "container_name": "container_name",
    "service_name": "service_name",
    "task_family": "task_family",
    "family": "task_family",
    "target_group_name": "target_group_name",
    "tg_name": "target_group_name",
    "cpu": "container_cpu",
    "container_cpu": "container_cpu",
    "memory": "container_memory",
    "container_memory": "container_memory",
    "memory_reservation": "container_memory_reservation",
    "task_cpu": "task_cpu",
    "task_memory": "task_memory",
    "desired_count": "desired_count",
    "count": "desired_count",
    "min_count": "min_count",
    "max_count": "max_count",
    "log_level": "log_level",
    "workers": "gunicorn_workers",
    "gunicorn_workers": "gunicorn_workers",
    "threads": "gunicorn_threads",
    "gunicorn_threads": "gunicorn_threads",
}
# Global variables under another name here.
RENAMES = {
    "region": "aws_region",
    "aws_account": "aws_account_id",
    "account_id": "aws_account_id",
    "ecs_cluster_name": "cluster_name",
    "app_name": "cluster_name",
    "project_name": "cluster_name",
    "vpc_cidr_block": "vpc_cidr",
    "azs": "availability_zones",
    "public_subnets": "public_subnet_cidrs",
    "public_subnet_cidr_blocks": "public_subnet_cidrs",
    "private_subnets": "private_subnet_cidrs",
    "private_subnet_cidr_blocks": "private_subnet_cidrs",
    "enable_nat_gateway": "enable_private_subnets",
    "ec2_instance_type": "instance_type",
    "ecs_instance_type": "instance_type",
    "key_pair_name": "key_name",
    "ssh_key_name": "key_name",
    "ssh_cidr": "ssh_allowed_cidr",
    "allowed_ssh_cidr": "ssh_allowed_cidr",
    "min_size": "asg_min_size",
    "max_size": "asg_max_size",
    "desired_capacity": "asg_desired_capacity",
    "asg_min": "asg_min_size",
    "asg_max": "asg_max_size",
    "asg_desired": "asg_desired_capacity",
    "volume_size": "root_volume_size",
    "lb_name": "alb_name",
    "acm_certificate_arn": "certificate_arn",
    "ssl_certificate_arn": "certificate_arn",
    "domain": "domain_name",
    "route53_zone_id": "hosted_zone_id",
    "zone_id": "hosted_zone_id",
    "health_check_path_timeout": "health_check_timeout",
    "log_retention": "log_retention_days",
    "log_retention_in_days": "log_retention_days",
    "notification_email": "alarm_email",
    "sns_email": "alarm_email",
    "alert_email": "alarm_email",
    "ecr_tag_mutability": "ecr_image_tag_mutability",
    "image_tag_mutability": "ecr_image_tag_mutability",
}
# Variables of the original with no setting here, and why.
DROPPED = {
    "ami_id": "the ECS-optimized AMI is read from its public SSM parameter (ami_ssm_parameter), never pinned",
    "container_port": "ports come from delivery/routes.py (5001, 5050, 80), shared by the images and the ALB",
    "host_port": "tasks get dynamic host ports, so several fit on one instance",
    "health_check_path": "health paths come from delivery/routes.py",
    "execution_role_arn": "the stack creates one least-privilege execution role per service",
    "ecs_task_execution_role_arn": "the stack creates one least-privilege execution role per service",
    "cpu_high_threshold": "instances scale by ECS managed scaling (cpu_alarm_threshold only notifies)",
    "cpu_low_threshold": "instances scale by ECS managed scaling, not alarms",
    "memory_high_threshold": "instances scale by ECS managed scaling (memory_alarm_threshold only notifies)",
    "memory_low_threshold": "instances scale by ECS managed scaling, not alarms",
    "scale_up_adjustment": "scaling is target tracking: no step sizes",
    "scale_down_adjustment": "scaling is target tracking: no step sizes",
    "listener_path": "the APIs are routed by prefix (/yoloapi/*, /depthapi/*), and only with public_apis",
}
# Defaults that differ from the original's, as this repository records them.
CHANGED_DEFAULTS = {
    "image_tag": '"latest" (never pushed) -> "" : the tag the last make deploy / CodeBuild recorded in SSM',
    "state_backend": "local state -> s3 (a versioned, encrypted bucket make deploy creates)",
    "public_apis": "APIs on the public load balancer -> false (reached inside the VPC; opt in with API keys)",
    "ssh_allowed_cidr": "SSH is closed unless key_name and a range are both set; 0.0.0.0/0 is refused",
}


def parse_tfvars(text: str) -> dict[str, Any]:
    """A ``.tfvars`` file as Python values (python-hcl2 keeps the quotes of strings: removed here)."""
    import hcl2

    def unquote(value: Any) -> Any:
        if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
            return value[1:-1]
        if isinstance(value, list):
            return [unquote(v) for v in value]
        if isinstance(value, dict):
            return {k: unquote(v) for k, v in value.items()}
        return value

    return unquote(hcl2.loads(text))


def target_of(name: str, settings: dict[str, Any]) -> tuple[str, ...] | None:
    """The setting ``name`` maps to, as a key path (``("services", "depth", "task_cpu")``), or None."""
    if name in settings and name != "services":
        return (name,)
    if name in RENAMES:
        return (RENAMES[name],)
    for service, prefixes in SERVICE_PREFIXES.items():
        for prefix in prefixes:
            suffix = name.removeprefix(f"{prefix}_")
            if suffix != name and suffix in SERVICE_SUFFIXES:
                return ("services", service, SERVICE_SUFFIXES[suffix])
    return None


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


def rewrite(text: str, values: dict[tuple[str, ...], Any]) -> str:
    """``settings.toml`` text with each key path set to its value, comments and layout kept."""
    lines, table = text.splitlines(), ()
    for index, line in enumerate(lines):
        header = re.match(r"^\[([a-z0-9_.]+)\]\s*$", line)
        if header:
            table = tuple(header.group(1).split("."))
            continue
        assignment = re.match(r"^([a-z0-9_]+)(\s*=\s*)(.*?)(\s+#.*)?$", line)
        if assignment and (*table, assignment.group(1)) in values:
            key, equals, _, comment = assignment.groups()
            lines[index] = f"{key}{equals}{_toml_value(values[(*table, key)])}{comment or ''}"
    return "\n".join(lines) + "\n"


def import_tfvars(tfvars: str, settings_text: str) -> tuple[str, list[str]]:
    """The new settings text and the report lines; raises ``SettingsError`` if the result is invalid."""
    original = parse_tfvars(tfvars)
    current = tomllib.loads(settings_text)
    mapped, unknown, dropped, values = [], [], [], {}
    for name, value in original.items():
        if name in DROPPED:
            dropped.append(f"  {name}: {DROPPED[name]}")
            continue
        if name.endswith("container_port"):
            dropped.append(f"  {name}: {DROPPED['container_port']}")
            continue
        if name == "image_tag" and value == "latest":
            dropped.append(f'  {name}: "latest" is never pushed; synth uses the tag make deploy recorded')
            continue
        path = target_of(name, current)
        if path is None:
            unknown.append(f"  {name} = {value!r}: not a variable this tool knows; set its setting by hand")
            continue
        values[path] = value
        arrow = "=" if path == (name,) else "->"
        mapped.append(f"  {name} {arrow} {'.'.join(path)} = {_toml_value(value)}")
    text = rewrite(settings_text, values)
    settings_from_dict(tomllib.loads(text), environ={}, source="the imported settings")
    report = ["Mapped:", *(mapped or ["  (nothing)"])]
    report += ["Defaults that differ from the original's:"]
    report += [f"  {name}: {why}" for name, why in CHANGED_DEFAULTS.items() if (name,) not in values]
    report += ["Dropped:", *(dropped or ["  (nothing)"])]
    if unknown:
        report += ["Unknown (not imported):", *unknown]
    return text, report


def main(argv: Sequence[str]) -> int:
    """Command line of ``import-tfvars``; exit status 2 when the file or the result is invalid."""
    parser = argparse.ArgumentParser(prog="python -m cdktf_app import-tfvars", description=__doc__)
    parser.add_argument("tfvars", type=Path, help="the original terraform.tfvars")
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_SETTINGS_FILE,
        help="settings file to write (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        tfvars = args.tfvars.read_text(encoding="utf-8")
        text, report = import_tfvars(tfvars, DEFAULT_SETTINGS_FILE.read_text(encoding="utf-8"))
    except (OSError, SettingsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # python-hcl2 raises lark's errors for a malformed file
        print(f"error: {args.tfvars} is not a readable .tfvars file: {err}", file=sys.stderr)
        return 2
    args.out.write_text(text, encoding="utf-8")
    print("\n".join(report))
    print(f"Wrote {args.out}; review it, then `make synth`.")
    return 0
