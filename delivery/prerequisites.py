"""What ``make deploy`` needs before it starts, each missing item with what to do about it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from delivery.engine import describe_missing_engine, detect_engine
from delivery.stack import StackTools, find_tools
from delivery.steps import DeliveryError


@dataclass(frozen=True)
class Check:
    """One prerequisite: met or not, what was found, and how to fix it when missing."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        """``ok``/``MISSING`` line for the progress output."""
        if self.ok:
            return f"      ok       {self.name}: {self.detail}"
        return f"      MISSING  {self.name}: {self.detail}" + (
            f"\n               fix: {self.fix}" if self.fix else ""
        )


@dataclass(frozen=True)
class AwsIdentity:
    """Who the credentials belong to and where the deployment goes."""

    account_id: str
    region: str
    arn: str


def check_aws(
    session: boto3.Session, expected_account: str | None = None
) -> tuple[Check, AwsIdentity | None]:
    """Credentials present and valid (STS ``GetCallerIdentity``), a region set, the expected account."""
    name = "AWS credentials"
    fix = (
        "run `aws configure` (or `aws sso login`), "
        "or set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    )
    if session.get_credentials() is None:
        return Check(name, False, "no AWS credentials found", fix), None
    if not session.region_name:
        return Check(name, False, "no AWS region set", "set AWS_REGION (for example eu-west-1)"), None
    try:
        identity = session.client("sts").get_caller_identity()
    except (BotoCoreError, ClientError) as exc:
        return Check(name, False, f"the credentials were rejected ({exc})", fix), None
    account = identity["Account"]
    if expected_account and expected_account != account:
        return (
            Check(
                name,
                False,
                f"credentials are for account {account} but AWS_ACCOUNT_ID is {expected_account}",
                "unset AWS_ACCOUNT_ID or switch profile",
            ),
            None,
        )
    found = AwsIdentity(account_id=account, region=session.region_name, arn=identity["Arn"])
    return Check(name, True, f"{found.arn} in {found.region}"), found


def check_engine() -> Check:
    """A docker or podman that can build images."""
    engine = detect_engine()
    if engine:
        return Check("container engine", True, engine.executable)
    return Check(
        "container engine", False, describe_missing_engine(), "install or start Docker, or install podman"
    )


def check_node(which: Callable[[str], str | None] = shutil.which) -> Check:
    """Node.js, which CDKTF's Python bindings run on (jsii)."""
    node = which("node")
    if node:
        return Check("Node.js", True, node)
    return Check("Node.js", False, "node is not on PATH", "install Node.js 20 or newer (https://nodejs.org)")


def check_stack_tools(tools: StackTools) -> Check:
    """terraform or tofu (always needed), plus the cdktf CLI when present."""
    if tools.terraform and tools.cdktf:
        return Check("cdktf / terraform", True, f"{tools.cdktf} with {tools.terraform}")
    if tools.terraform:
        return Check(
            "cdktf / terraform",
            True,
            f"{tools.terraform} (cdktf CLI not found: applying cdk.tf.json directly)",
        )
    return Check(
        "cdktf / terraform",
        False,
        "neither terraform nor tofu is on PATH" + ("" if tools.cdktf else " (nor the cdktf CLI)"),
        "install Terraform >= 1.10 (https://developer.hashicorp.com/terraform/install) or OpenTofu >= 1.10; "
        "optionally `npm install -g cdktf-cli@0.21`",
    )


def require(session: boto3.Session, *, need_engine: bool = True) -> AwsIdentity:
    """Run every check, print one line each, and raise listing all that are missing.

    ``AWS_ACCOUNT_ID``, when set, must be the account of the credentials (a guard against
    deploying with the wrong profile).
    """
    aws, identity = check_aws(session, os.environ.get("AWS_ACCOUNT_ID") or None)
    checks = [aws, *([check_engine()] if need_engine else []), check_node(), check_stack_tools(find_tools())]
    for check in checks:
        print(check.line(), flush=True)
    missing = [c for c in checks if not c.ok]
    if missing or identity is None:
        raise DeliveryError(
            "missing prerequisites: "
            + ", ".join(c.name for c in missing)
            + " (each is listed above with its fix)"
        )
    return identity
