"""The S3 bucket the load balancer writes its access logs to (when no existing bucket is named).

Load balancers deliver access logs only to buckets encrypted with S3-managed keys (SSE-S3), so this
bucket cannot use a KMS key. Versioned, private, TLS-only, logs kept ``retention_days``.
"""

from __future__ import annotations

from cdktf_app.cdk import (
    Construct,
    data_aws_elb_service_account,
    s3_bucket,
    s3_bucket_lifecycle_configuration,
    s3_bucket_ownership_controls,
    s3_bucket_policy,
    s3_bucket_public_access_block,
    s3_bucket_server_side_encryption_configuration,
    s3_bucket_versioning,
)
from cdktf_app.constructs.iam import policy_document

# Regions opened since 2022 deliver through this service principal; older ones through an ELB account.
LOG_DELIVERY_PRINCIPAL = "logdelivery.elasticloadbalancing.amazonaws.com"


class AccessLogBucket(Construct):
    """Attributes: ``bucket``; ``prefix`` (key prefix of the logs); ``policy`` (depend on it before use)."""

    def __init__(
        self, scope: Construct, id_: str, *, name_prefix: str, account_id: str, retention_days: int
    ) -> None:
        super().__init__(scope, id_)
        self.prefix = "alb"
        self.bucket = s3_bucket.S3Bucket(self, "bucket", bucket_prefix=name_prefix, force_destroy=False)
        bucket_id = self.bucket.id
        s3_bucket_public_access_block.S3BucketPublicAccessBlock(
            self,
            "public-access-block",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        s3_bucket_ownership_controls.S3BucketOwnershipControls(
            self, "ownership", bucket=bucket_id, rule={"object_ownership": "BucketOwnerEnforced"}
        )
        s3_bucket_versioning.S3BucketVersioningA(
            self, "versioning", bucket=bucket_id, versioning_configuration={"status": "Enabled"}
        )
        encryption = (
            s3_bucket_server_side_encryption_configuration.S3BucketServerSideEncryptionConfigurationA(
                self, "encryption", bucket=bucket_id, rule=[]
            )
        )
        # Blocks inside lists are written as Terraform JSON: the bindings' dict conversion empties them.
        encryption.add_override(
            "rule", [{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}]
        )
        lifecycle = s3_bucket_lifecycle_configuration.S3BucketLifecycleConfiguration(
            self, "lifecycle", bucket=bucket_id
        )
        lifecycle.add_override(
            "rule",
            [
                {
                    "id": "expire-logs",
                    "status": "Enabled",
                    "filter": [{"prefix": ""}],
                    "expiration": [{"days": retention_days}],
                    "noncurrent_version_expiration": [{"noncurrent_days": 7}],
                    "abort_incomplete_multipart_upload": [{"days_after_initiation": 1}],
                }
            ],
        )
        elb_account = data_aws_elb_service_account.DataAwsElbServiceAccount(self, "elb-account")
        objects = f"{self.bucket.arn}/{self.prefix}/AWSLogs/{account_id}/*"
        self.policy = s3_bucket_policy.S3BucketPolicy(
            self,
            "policy",
            bucket=bucket_id,
            policy=policy_document(
                [
                    {
                        "Sid": "LoadBalancerWritesLogs",
                        "Effect": "Allow",
                        "Principal": {"AWS": elb_account.arn},
                        "Action": "s3:PutObject",
                        "Resource": objects,
                    },
                    {
                        "Sid": "LogDeliveryWritesLogs",
                        "Effect": "Allow",
                        "Principal": {"Service": LOG_DELIVERY_PRINCIPAL},
                        "Action": "s3:PutObject",
                        "Resource": objects,
                    },
                    {
                        "Sid": "TlsOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [self.bucket.arn, f"{self.bucket.arn}/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ]
            ),
        )
