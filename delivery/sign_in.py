"""Sign-in around a deploy: the OIDC client secret must exist before apply; afterwards, how to add users.

The stack names the OIDC client secret in Secrets Manager (``oidc_client_secret_name``): Terraform reads
its version list and CloudFormation its value. A missing secret would fail ``terraform plan`` with a
provider error, so deploy checks it first and says how to create it without the value landing in the
shell history. With Cognito, nobody can sign in until the operator adds a user: deploy prints the
command.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from cdktf_app.config import Settings
from delivery.steps import DeliveryError


def require_oidc_secret(secretsmanager, name: str) -> None:
    """Raise ``DeliveryError`` naming ``name`` and how to create it unless the secret exists."""
    try:
        secretsmanager.describe_secret(SecretId=name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        raise DeliveryError(
            f"page_access = oidc needs the client secret in Secrets Manager as {name!r}, and it is not "
            "there. Put the secret your identity provider gave you in a file, then:\n"
            f"  aws secretsmanager create-secret --name {name} --secret-string file://client-secret.txt\n"
            "and delete the file (file:// keeps the value out of your shell history)."
        ) from None
    print(f"      OIDC client secret {name} exists", flush=True)


def user_count(cognito, user_pool_id: str) -> int:
    """How many users the pool has, up to 1 (enough to know whether anyone can sign in)."""
    return len(cognito.list_users(UserPoolId=user_pool_id, Limit=1)["Users"])


def access_summary(settings: Settings, outputs: dict[str, object], cognito=None) -> list[str]:
    """Lines for the deploy summary: who may use the page and, with Cognito, how to add a user."""
    if settings.page_access == "open":
        return ["The page is open to anyone who has its address (page_access = open)."]
    if settings.page_access == "oidc":
        return [f"Sign-in: users sign in through {settings.oidc_issuer}; grant them access there."]
    pool = str(outputs.get("user_pool_id") or "")
    lines = ["Sign-in: Cognito user pool " + pool + " (administrators add users; no self sign-up)."]
    if cognito is not None and pool and user_count(cognito, pool) == 0:
        lines.append("Nobody can sign in yet. Add the first user (Cognito emails a temporary password):")
    else:
        lines.append("Add a user (Cognito emails a temporary password):")
    lines.append(
        f"  aws cognito-idp admin-create-user --region {settings.aws_region} --user-pool-id {pool} "
        "--username you@example.com --user-attributes Name=email,Value=you@example.com "
        "Name=email_verified,Value=true"
    )
    return lines
