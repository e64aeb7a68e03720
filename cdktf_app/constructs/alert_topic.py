"""The alert topic: SNS encrypted with a customer-managed KMS key that CloudWatch and EventBridge may use.

CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed ``alias/aws/sns`` key (its
policy cannot be changed to let ``cloudwatch.amazonaws.com`` use it), so the topic has its own key with
rotation on. ECS deployment failures (the circuit breaker's rollbacks) reach the same topic through an
EventBridge rule; an optional e-mail subscription delivers both to a person.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from cdktf_app.cdk import (
    Construct,
    cloudwatch_event_rule,
    cloudwatch_event_target,
    kms_alias,
    kms_key,
    sns_topic,
    sns_topic_policy,
    sns_topic_subscription,
)
from cdktf_app.constructs.iam import policy_document

# The AWS services that publish to the topic, and what they need from its key to do so.
PUBLISHERS = ("cloudwatch.amazonaws.com", "events.amazonaws.com")
PUBLISHER_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")


def key_policy(partition: str, account_id: str) -> str:
    """The key's policy: the account administers it through IAM; the two publishers may use it."""
    return policy_document(
        [
            {
                # Without this statement nobody, not even the account, could manage the key again.
                "Sid": "AccountAdministersTheKeyThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                # As in AWS's documented key policy for alarm topics: no condition, since not every
                # publisher passes a source account to KMS, and a denied alarm fails silently. Who may
                # publish is decided by the topic's own policy below.
                "Sid": "AlarmsAndEventsPublishToTheTopic",
                "Effect": "Allow",
                "Principal": {"Service": list(PUBLISHERS)},
                "Action": list(PUBLISHER_KEY_ACTIONS),
                "Resource": "*",
            },
        ]
    )


def deployment_failure_pattern(service_arns: Sequence[str]) -> str:
    """EventBridge pattern of a failed ECS deployment (a circuit-breaker rollback) of these services."""
    return json.dumps(
        {
            "source": ["aws.ecs"],
            "detail-type": ["ECS Deployment State Change"],
            "resources": list(service_arns),
            "detail": {"eventName": ["SERVICE_DEPLOYMENT_FAILED"]},
        }
    )


class AlertTopic(Construct):
    """Attributes: ``key`` (the KMS key), ``topic``, ``deployment_failures`` (the EventBridge rule)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        partition: str,
        account_id: str,
        email: str,
        service_arns: Sequence[str],
    ) -> None:
        super().__init__(scope, id_)
        self.key = kms_key.KmsKey(
            self,
            "key",
            description=f"{name}: encrypts the alert topic; CloudWatch and EventBridge may publish",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=key_policy(partition, account_id),
        )
        kms_alias.KmsAlias(self, "alias", name=f"alias/{name}", target_key_id=self.key.key_id)
        self.topic = sns_topic.SnsTopic(self, "topic", name=name, kms_master_key_id=self.key.arn)
        sns_topic_policy.SnsTopicPolicy(
            self,
            "policy",
            arn=self.topic.arn,
            policy=policy_document(
                [
                    {
                        "Sid": "AlarmsAndEventsPublish",
                        "Effect": "Allow",
                        "Principal": {"Service": list(PUBLISHERS)},
                        "Action": "sns:Publish",
                        "Resource": self.topic.arn,
                        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                    }
                ]
            ),
        )
        if email:
            sns_topic_subscription.SnsTopicSubscription(
                self, "email", topic_arn=self.topic.arn, protocol="email", endpoint=email
            )
        self.deployment_failures = cloudwatch_event_rule.CloudwatchEventRule(
            self,
            "deployment-failures",
            name=f"{name}-ecs-deployment-failed",
            description="ECS deployments that failed and were rolled back by the circuit breaker",
            event_pattern=deployment_failure_pattern(service_arns),
        )
        cloudwatch_event_target.CloudwatchEventTarget(
            self, "deployment-failures-to-topic", rule=self.deployment_failures.name, arn=self.topic.arn
        )
