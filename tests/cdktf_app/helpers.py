"""Helpers of the infrastructure tests: settings variants and a reader of the synthesized JSON."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdktf_app.config import Settings
from cdktf_app.settings_file import DEFAULT_SETTINGS_FILE

# What synth needs from AWS or `make deploy` (the account, a published image tag), given up front.
DEPLOYED = {"AWS_ACCOUNT_ID": "123456789012", "IMAGE_TAG": "0123456789ab"}

# The production profile with every optional feature switched on: public APIs, certificate, DNS record,
# SSH, email, an explicit state bucket, pinned zones (the access-log bucket is made by the stack).
FULL_OPTIONS: dict[str, Any] = {
    "profile": "production",
    "public_apis": True,
    "cors_allowed_origins": ["https://app.example.com"],
    "aws_region": "eu-west-1",
    "aws_account_id": "123456789012",
    "state_bucket": "objdepth-state",
    "availability_zones": ["eu-west-1a", "eu-west-1b"],
    "enable_private_subnets": True,
    "key_name": "ops",
    "ssh_allowed_cidr": "203.0.113.0/24",
    "certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    "domain_name": "objdepth.example.com",
    "hosted_zone_id": "Z0123456789ABCDEFGHIJ",
    "alarm_email": "ops@example.com",
}

# The APIs on GPU capacity (cdktf_app/gpu.py): g6.xlarge, one NVIDIA L4, 4 vCPU, 16 GiB each.
GPU_OPTIONS: dict[str, Any] = {"gpu": True, "gpu_instance_type": "g6.xlarge"}

# Sign-in through an existing OpenID Connect provider: its endpoints, and the secret's name only.
OIDC_OPTIONS: dict[str, Any] = {
    "page_access": "oidc",
    "oidc_issuer": "https://login.example.com",
    "oidc_authorization_endpoint": "https://login.example.com/authorize",
    "oidc_token_endpoint": "https://login.example.com/token",
    "oidc_user_info_endpoint": "https://login.example.com/userinfo",
    "oidc_logout_endpoint": "https://login.example.com/logout",
    "oidc_client_id": "objdepth-client",
    "oidc_client_secret_name": "objdepth/oidc-client-secret",
}

_REFERENCE = re.compile(r"^\$\{(data\.)?([a-z0-9_]+)\.([^.}]+)\.([a-z0-9_]+)\}$")


def raw_settings() -> dict[str, Any]:
    """The repository's settings file, parsed (a fresh copy each call)."""
    return tomllib.loads(DEFAULT_SETTINGS_FILE.read_text(encoding="utf-8"))


@dataclass
class Synthesized:
    """One synthesized stack: the JSON text (for ``Testing`` matchers and the snapshot) and helpers."""

    settings: Settings
    text: str
    doc: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.doc = json.loads(self.text)

    def resources(self, type_: str) -> list[dict[str, Any]]:
        """All resources of a Terraform type (``aws_lb``), in declaration order."""
        return list(self.doc.get("resource", {}).get(type_, {}).values())

    def one(self, type_: str, **match: Any) -> dict[str, Any]:
        """The single resource of ``type_`` whose top-level properties equal ``match``."""
        found = [r for r in self.resources(type_) if all(r.get(k) == v for k, v in match.items())]
        assert len(found) == 1, f"expected one {type_} with {match}, found {len(found)}"
        return found[0]

    def resolve(self, reference: str) -> dict[str, Any]:
        """The resource or data source a ``${type.id.attribute}`` reference points to."""
        parsed = _REFERENCE.match(reference)
        assert parsed, f"not a plain reference: {reference!r}"
        data, type_, id_, _ = parsed.groups()
        return self.doc["data" if data else "resource"][type_][id_]

    def containers(self) -> dict[str, dict[str, Any]]:
        """Container definitions of every task definition, keyed by container name."""
        result = {}
        for task in self.resources("aws_ecs_task_definition"):
            for container in json.loads(task["container_definitions"]):
                result[container["name"]] = container
        return result

    def policies(self) -> list[dict[str, Any]]:
        """Every inline IAM policy document, parsed."""
        return [json.loads(p["policy"]) for p in self.resources("aws_iam_role_policy")]


def synth(settings: Settings, outdir: Path) -> str:
    """``cdk.tf.json`` as ``make synth`` writes it (backend included, unlike ``Testing.synth``)."""
    from cdktf_app.cdk import App
    from cdktf_app.stack import STACK_NAME, ObjDepthStack

    app = App(outdir=str(outdir))
    ObjDepthStack(app, STACK_NAME, settings)
    app.synth()
    return (outdir / "stacks" / STACK_NAME / "cdk.tf.json").read_text(encoding="utf-8")
