"""IAM reviewed as a security reviewer would: managed policies from an allow-list, no wildcard actions.

The rules are functions over the synthesized JSON, run on both profiles; the mutation tests below prove
they fail when someone attaches ``AdministratorAccess`` (or any power) anywhere.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.cdktf_app.helpers import Synthesized

PARTITION_ARN = "arn:aws:iam::aws:policy/"
# Every AWS managed policy the stack may attach, to which role, and why (docs/deployment.md repeats it).
MANAGED_POLICY_ALLOW_LIST = {
    ("objdepth-cluster-instance", PARTITION_ARN + "service-role/AmazonEC2ContainerServiceforEC2Role"): (
        "the ECS agent on the instances registers them and pulls task metadata"
    ),
    ("objdepth-cluster-instance", PARTITION_ARN + "AmazonSSMManagedInstanceCore"): (
        "Session Manager shell access instead of SSH"
    ),
}
# Identity-policy statements whose resource cannot be scoped (the action has no resource type).
UNSCOPABLE_ACTIONS = {"ecr:GetAuthorizationToken"}
# Resource-policy statements that may use a wildcard action: a KMS key policy must let the account's
# IAM administer the key, or nobody could manage it again (AWS's default key policy does the same).
RESOURCE_POLICY_WILDCARDS = {("aws_kms_key", "kms:*", "AccountAdministersTheKeyThroughIam")}
ATTACHMENT_TYPES = (
    "aws_iam_role_policy_attachment",
    "aws_iam_policy_attachment",
    "aws_iam_user_policy_attachment",
    "aws_iam_group_policy_attachment",
    "aws_iam_role_policy_attachments_exclusive",
)


def _role_name(doc: dict[str, Any], reference: str) -> str:
    if reference.startswith("${aws_iam_role."):
        logical_id = reference[len("${aws_iam_role.") :].split(".")[0]
        return doc["resource"]["aws_iam_role"][logical_id]["name"]
    return reference


def _statements(policy: Any) -> list[dict[str, Any]]:
    document = json.loads(policy) if isinstance(policy, str) else policy
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else statements


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def managed_policy_violations(doc: dict[str, Any]) -> list[str]:
    """Managed policy attachments (in any of Terraform's forms) that are not on the allow-list."""
    problems = []
    resources = doc.get("resource", {})
    for type_ in ATTACHMENT_TYPES:
        for logical_id, body in resources.get(type_, {}).items():
            roles = [body["role"]] if "role" in body else body.get("roles", []) or [type_]
            for arn in _as_list(body.get("policy_arn", body.get("policy_arns", []))):
                for role in roles:
                    if (_role_name(doc, role), arn) not in MANAGED_POLICY_ALLOW_LIST:
                        problems.append(f"{type_}.{logical_id}: {arn} on {role}")
    for logical_id, role in resources.get("aws_iam_role", {}).items():
        for arn in role.get("managed_policy_arns", []):
            if (role["name"], arn) not in MANAGED_POLICY_ALLOW_LIST:
                problems.append(f"aws_iam_role.{logical_id}: managed_policy_arns {arn}")
    return problems


def wildcard_violations(doc: dict[str, Any]) -> list[str]:
    """``*`` in actions (identity or resource policies), or ``*`` resources beyond the unscopable actions."""
    problems = []
    resources = doc.get("resource", {})
    identity_policies = [
        (f"{type_}.{logical_id}", body["policy"])
        for type_ in ("aws_iam_role_policy", "aws_iam_policy", "aws_iam_user_policy", "aws_iam_group_policy")
        for logical_id, body in resources.get(type_, {}).items()
    ] + [
        (f"aws_iam_role.{logical_id}.inline_policy", inline["policy"])
        for logical_id, role in resources.get("aws_iam_role", {}).items()
        for inline in role.get("inline_policy", [])
    ]
    for where, policy in identity_policies:
        for statement in _statements(policy):
            actions = _as_list(statement.get("Action", []))
            if statement.get("NotAction"):
                problems.append(f"{where}: NotAction grants everything else")
            problems += [f"{where}: wildcard action {a}" for a in actions if "*" in a]
            if "*" in _as_list(statement.get("Resource", [])) and not set(actions) <= UNSCOPABLE_ACTIONS:
                problems.append(f"{where}: resource * for {actions}")
    for type_, field in (
        ("aws_kms_key", "policy"),
        ("aws_sns_topic_policy", "policy"),
        ("aws_s3_bucket_policy", "policy"),
    ):
        for logical_id, body in resources.get(type_, {}).items():
            for statement in _statements(body[field]):
                if statement.get("Effect") == "Deny":
                    continue
                for action in _as_list(statement.get("Action", [])):
                    allowed = (type_, action, statement.get("Sid")) in RESOURCE_POLICY_WILDCARDS
                    if (action == "*" or action.endswith(":*")) and not allowed:
                        problems.append(f"{type_}.{logical_id}: wildcard action {action}")
    return problems


def test_managed_policies_come_from_the_allow_list(any_stack: Synthesized) -> None:
    assert managed_policy_violations(any_stack.doc) == []
    attached = {a["policy_arn"] for a in any_stack.resources("aws_iam_role_policy_attachment")}
    assert attached == {arn for _, arn in MANAGED_POLICY_ALLOW_LIST}, "the allow-list has no stale entry"


def test_no_wildcard_action_outside_the_documented_list(any_stack: Synthesized) -> None:
    assert wildcard_violations(any_stack.doc) == []


def _some_role_id(doc: dict[str, Any]) -> str:
    return next(iter(doc["resource"]["aws_iam_role"]))


ADMIN = PARTITION_ARN + "AdministratorAccess"


def _attach(doc: dict[str, Any]) -> None:
    role = _some_role_id(doc)
    doc["resource"]["aws_iam_role_policy_attachment"]["admin"] = {
        "role": f"${{aws_iam_role.{role}.name}}",
        "policy_arn": ADMIN,
    }


def _managed_arns(doc: dict[str, Any]) -> None:
    doc["resource"]["aws_iam_role"][_some_role_id(doc)]["managed_policy_arns"] = [ADMIN]


def _policy_attachment(doc: dict[str, Any]) -> None:
    doc["resource"]["aws_iam_policy_attachment"] = {
        "admin": {"name": "x", "roles": ["r"], "policy_arn": ADMIN}
    }


def _inline_star(doc: dict[str, Any]) -> None:
    policy = next(iter(doc["resource"]["aws_iam_role_policy"].values()))
    document = json.loads(policy["policy"])
    document["Statement"].append({"Effect": "Allow", "Action": "*", "Resource": "*"})
    policy["policy"] = json.dumps(document)


def _service_star(doc: dict[str, Any]) -> None:
    policy = next(iter(doc["resource"]["aws_iam_role_policy"].values()))
    document = json.loads(policy["policy"])
    document["Statement"].append({"Effect": "Allow", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::x"]})
    policy["policy"] = json.dumps(document)


def _key_policy_star(doc: dict[str, Any]) -> None:
    key = next(iter(doc["resource"]["aws_kms_key"].values()))
    document = json.loads(key["policy"])
    document["Statement"][1]["Action"] = "kms:*"
    key["policy"] = json.dumps(document)


@pytest.mark.parametrize(
    "change",
    [_attach, _managed_arns, _policy_attachment, _inline_star, _service_star, _key_policy_star],
    ids=lambda f: f.__name__.strip("_"),
)
def test_adding_administrator_access_or_a_wildcard_anywhere_fails(stack: Synthesized, change) -> None:
    doc = copy.deepcopy(stack.doc)
    change(doc)
    assert managed_policy_violations(doc) + wildcard_violations(doc), f"{change.__name__} went unnoticed"
