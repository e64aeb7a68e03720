"""ECR: one image repository with scan on push, encryption and a lifecycle policy."""

from __future__ import annotations

import json

from cdktf_app.cdk import Construct, ecr_lifecycle_policy, ecr_repository
from cdktf_app.config import Settings


def lifecycle_policy(max_image_count: int, untagged_expiry_days: int) -> str:
    """ECR lifecycle policy: expire untagged images after some days, keep the newest ``max_image_count``."""
    rules = [
        {
            "rulePriority": 1,
            "description": f"Expire untagged images after {untagged_expiry_days} days",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": untagged_expiry_days,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 2,
            "description": f"Keep the newest {max_image_count} images",
            "selection": {
                "tagStatus": "any",
                "countType": "imageCountMoreThan",
                "countNumber": max_image_count,
            },
            "action": {"type": "expire"},
        },
    ]
    return json.dumps({"rules": rules})


class ImageRepository(Construct):
    """The ECR repository of one service's image. Attributes: ``repository`` (url, arn, name)."""

    def __init__(self, scope: Construct, id_: str, *, name: str, settings: Settings) -> None:
        super().__init__(scope, id_)
        self.repository = ecr_repository.EcrRepository(
            self,
            "repository",
            name=name,
            image_tag_mutability=settings.ecr_image_tag_mutability,
            image_scanning_configuration={"scan_on_push": True},
            # KMS with the AWS managed key (aws/ecr): encrypted at rest at no key cost.
            encryption_configuration=[
                ecr_repository.EcrRepositoryEncryptionConfiguration(encryption_type="KMS")
            ],
            force_delete=settings.ecr_force_delete,
        )
        ecr_lifecycle_policy.EcrLifecyclePolicy(
            self,
            "lifecycle",
            repository=self.repository.name,
            policy=lifecycle_policy(settings.ecr_max_image_count, settings.ecr_untagged_expiry_days),
        )
