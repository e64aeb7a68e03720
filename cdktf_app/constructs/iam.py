"""IAM: a role for one AWS service principal with an inline least-privilege policy, and policy helpers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cdktf_app.cdk import Construct, iam_role, iam_role_policy, iam_role_policy_attachment

Statement = dict[str, Any]


def allow(actions: Sequence[str], resources: Sequence[str]) -> Statement:
    """One ``Allow`` statement of an IAM policy."""
    return {"Effect": "Allow", "Action": sorted(actions), "Resource": list(resources)}


def policy_document(statements: Sequence[Statement]) -> str:
    """An IAM policy document as JSON (ARNs may be Terraform tokens; they resolve at synth)."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def assume_role_policy(service_principal: str) -> str:
    """Trust policy letting ``service_principal`` (e.g. ``ecs-tasks.amazonaws.com``) assume the role."""
    return policy_document(
        [{"Effect": "Allow", "Principal": {"Service": service_principal}, "Action": "sts:AssumeRole"}]
    )


class ServiceRole(Construct):
    """An IAM role assumed by one AWS service, with an optional inline policy and managed policies.

    Attributes: ``role`` (the ``IamRole``), ``policy`` (the inline ``IamRolePolicy`` or ``None``).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        principal: str,
        statements: Sequence[Statement] = (),
        managed_policy_arns: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id_)
        self.role = iam_role.IamRole(
            self, "role", name=name, assume_role_policy=assume_role_policy(principal)
        )
        self.policy = None
        if statements:
            self.policy = iam_role_policy.IamRolePolicy(
                self, "policy", name=f"{name}-policy", role=self.role.id, policy=policy_document(statements)
            )
        for index, arn in enumerate(managed_policy_arns):
            iam_role_policy_attachment.IamRolePolicyAttachment(
                self, f"managed-{index}", role=self.role.name, policy_arn=arn
            )
