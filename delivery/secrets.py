"""Secrets and records in SSM Parameter Store: made once by deploy, values never printed.

The Streamlit cookie secret and the API keys (with ``public_apis``) are SecureStrings ECS reads into the
containers; the image tag last deployed is a plain String that a later synth reads.
"""

from __future__ import annotations

import secrets

from botocore.exceptions import ClientError


def cookie_secret_parameter() -> str:
    """The parameter name the stack reads (``cookie_secret_parameter`` in cdktf_app/settings.toml)."""
    from cdktf_app.settings_file import load_settings

    return load_settings().cookie_secret_parameter


def ensure_secret_parameter(
    ssm, name: str, description: str = "Streamlit cookie secret of the objdepth web UI (made by make deploy)"
) -> bool:
    """Create ``name`` as a SecureString holding a random value unless it exists; return whether created.

    An existing value is kept, so browser sessions survive redeploys and a value set by hand stays.
    """
    try:
        ssm.put_parameter(
            Name=name,
            Value=secrets.token_urlsafe(32),
            Type="SecureString",
            Overwrite=False,
            Description=description,
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ParameterAlreadyExists":
            raise
        print(f"      parameter {name} exists", flush=True)
        return False
    print(f"      created SecureString parameter {name}", flush=True)
    return True


def delete_secret_parameter(ssm, name: str) -> bool:
    """Delete ``name``; return whether it existed."""
    try:
        ssm.delete_parameter(Name=name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ParameterNotFound":
            raise
        return False
    print(f"      deleted parameter {name}", flush=True)
    return True


def record_image_tag(ssm, name: str, tag: str) -> None:
    """Remember ``tag`` as the one deployed last: a synth without IMAGE_TAG deploys it again."""
    ssm.put_parameter(
        Name=name,
        Value=tag,
        Type="String",
        Overwrite=True,
        Description="Image tag of the objdepth services deployed last (written by make deploy / CodeBuild)",
    )
    print(f"      {name} = {tag}", flush=True)
