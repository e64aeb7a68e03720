"""What only AWS knows, filled in before synth: the account id and the image tag last published.

``make deploy`` and CodeBuild record the tag they pushed in the SSM parameter ``image_tag_parameter``;
a synth without ``IMAGE_TAG`` or a tag in the settings file deploys that tag, never a moving one. The
S3 state bucket is named after the account, so a synth without ``AWS_ACCOUNT_ID`` asks STS. When AWS
cannot be asked, the settings stay as they are and ``Settings.unresolved`` says what is missing.
"""

from __future__ import annotations

from collections.abc import Callable

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from cdktf_app.config import Settings


def published_tag(ssm, parameter: str) -> str:
    """The tag recorded in ``parameter``; "" when nothing was published yet."""
    try:
        return ssm.get_parameter(Name=parameter)["Parameter"]["Value"].strip()
    except ClientError as err:
        if err.response["Error"]["Code"] == "ParameterNotFound":
            return ""
        raise


def complete(settings: Settings, session_factory: Callable[..., boto3.Session] = boto3.Session) -> Settings:
    """``settings`` with the account id and image tag looked up where they are needed and not given."""
    needs_account = settings.state_backend == "s3" and not settings.state_bucket_name
    needs_tag = any(not settings.image_tag_for(name) for name in settings.services)
    if not (needs_account or needs_tag):
        return settings
    updates: dict[str, str] = {}
    try:
        session = session_factory(region_name=settings.aws_region)
        if needs_account:
            updates["aws_account_id"] = session.client("sts").get_caller_identity()["Account"]
        if needs_tag:
            tag = published_tag(session.client("ssm"), settings.image_tag_parameter)
            if tag:
                updates["image_tag"] = tag
    except (BotoCoreError, ClientError) as err:
        print(f"note: could not ask AWS ({err})", flush=True)
    return settings.model_copy(update=updates)
