"""The S3 bucket that holds the Terraform state: made by the first ``make deploy``, kept by ``make destroy``.

Versioned (an older state can be restored), encrypted, closed to the public and to plain HTTP. The lock
is Terraform's own lock file next to the state (``use_lockfile``), so no DynamoDB table is needed.
"""

from __future__ import annotations

import json

from botocore.exceptions import ClientError


def tls_only_policy(bucket: str) -> str:
    """A bucket policy refusing every request that does not use TLS."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "TlsOnly",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


def bucket_exists(s3, bucket: str) -> bool:
    """Whether ``bucket`` exists and is ours to use (a 403 means another account owns the name)."""
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in ("404", "NoSuchBucket", "NotFound"):
            return False
        if code in ("403", "AccessDenied", "Forbidden"):
            raise RuntimeError(
                f"the state bucket name {bucket} is taken by another account or not readable with these "
                "credentials; set state_bucket in cdktf_app/settings.toml to a name of your own"
            ) from exc
        raise
    return True


def ensure_state_bucket(s3, bucket: str, region: str) -> bool:
    """Create the state bucket with its protections unless it exists; return whether it was created."""
    if bucket_exists(s3, bucket):
        print(f"      state bucket {bucket} exists", flush=True)
        return False
    create = {"Bucket": bucket}
    if region != "us-east-1":  # us-east-1 refuses an explicit location constraint
        create["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**create)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}
            ]
        },
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=tls_only_policy(bucket))
    print(f"      created state bucket {bucket} (versioned, encrypted, private, TLS only)", flush=True)
    return True


def removal_advice(bucket: str) -> str:
    """How to delete the state bucket by hand once nothing is deployed from it any more."""
    return (
        f"The Terraform state bucket {bucket} is kept (it costs cents, and it is the only record of what "
        "was deployed). To remove it: empty it, old versions included (S3 console: Empty), then "
        f"`aws s3api delete-bucket --bucket {bucket}`."
    )
