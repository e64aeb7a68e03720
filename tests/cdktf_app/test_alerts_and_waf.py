"""Alarms that reach a person (a KMS key CloudWatch and EventBridge may use) and the WAF web ACL."""

from __future__ import annotations

import json

from cdktf_app.constructs.waf import MANAGED_RULE_GROUPS
from tests.cdktf_app.helpers import Synthesized


def test_topic_uses_a_rotated_customer_key_whose_policy_lets_cloudwatch_and_eventbridge_publish(
    any_stack: Synthesized,
) -> None:
    (topic,) = any_stack.resources("aws_sns_topic")
    assert topic["kms_master_key_id"] != "alias/aws/sns", "alarms cannot publish with the AWS-managed key"
    key = any_stack.resolve(topic["kms_master_key_id"])
    assert key["enable_key_rotation"] is True
    statements = json.loads(key["policy"])["Statement"]
    services = [s for s in statements if "Service" in s["Principal"]]
    (publishers,) = services
    assert sorted(publishers["Principal"]["Service"]) == ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
    assert sorted(publishers["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    (admin,) = [s for s in statements if "AWS" in s["Principal"]]
    assert admin["Principal"]["AWS"] == "arn:aws:iam::${data.aws_caller_identity.identity.account_id}:root"
    assert not any(s["Principal"] == "*" or s["Principal"] == {"AWS": "*"} for s in statements)


def test_topic_policy_lets_the_publishers_publish_from_this_account_only(any_stack: Synthesized) -> None:
    (policy,) = any_stack.resources("aws_sns_topic_policy")
    (statement,) = json.loads(policy["policy"])["Statement"]
    assert statement["Action"] == "sns:Publish"
    assert sorted(statement["Principal"]["Service"]) == ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
    assert "aws:SourceAccount" in statement["Condition"]["StringEquals"]


def test_every_alarm_and_failed_deployments_go_to_the_topic(any_stack: Synthesized) -> None:
    (topic_id,) = any_stack.doc["resource"]["aws_sns_topic"]
    topic_arn = f"${{aws_sns_topic.{topic_id}.arn}}"
    for alarm in any_stack.resources("aws_cloudwatch_metric_alarm"):
        assert alarm["alarm_actions"] == [topic_arn], alarm["alarm_name"]
    (rule,) = any_stack.resources("aws_cloudwatch_event_rule")
    pattern = json.loads(rule["event_pattern"])
    assert pattern["detail-type"] == ["ECS Deployment State Change"]
    assert pattern["detail"] == {"eventName": ["SERVICE_DEPLOYMENT_FAILED"]}
    assert len(pattern["resources"]) == 3 and all(
        r.startswith("${aws_ecs_service.") for r in pattern["resources"]
    )
    (target,) = any_stack.resources("aws_cloudwatch_event_target")
    assert target["arn"] == topic_arn


def test_alarms_mail_a_person_only_when_asked(stack: Synthesized, full_stack: Synthesized) -> None:
    assert stack.resources("aws_sns_topic_subscription") == []
    (mail,) = full_stack.resources("aws_sns_topic_subscription")
    assert (mail["protocol"], mail["endpoint"]) == ("email", "ops@example.com")


def test_production_web_acl_rate_limits_per_ip_and_lets_16_mb_uploads_through(
    full_stack: Synthesized,
) -> None:
    (acl,) = full_stack.resources("aws_wafv2_web_acl")
    assert acl["scope"] == "REGIONAL" and acl["default_action"] == {"allow": {}}
    rules = {rule["name"]: rule for rule in acl["rule"]}
    rate = rules["rate-limit-per-ip"]["statement"]["rate_based_statement"]
    assert rate == {"limit": full_stack.settings.waf_rate_limit, "aggregate_key_type": "IP"}
    assert rules["rate-limit-per-ip"]["action"] == {"block": {}}
    common = rules["AWSManagedRulesCommonRuleSet"]["statement"]["managed_rule_group_statement"]
    assert {"name": "SizeRestrictions_BODY", "action_to_use": {"count": {}}} in common["rule_action_override"]
    assert [name for name, _ in MANAGED_RULE_GROUPS] == [r["name"] for r in acl["rule"][1:]]
    assert len({r["priority"] for r in acl["rule"]}) == len(acl["rule"])
    (association,) = full_stack.resources("aws_wafv2_web_acl_association")
    assert full_stack.resolve(association["resource_arn"])["name"] == "objdepth-alb"
    (logging,) = full_stack.resources("aws_wafv2_web_acl_logging_configuration")
    (destination,) = logging["log_destination_configs"]
    assert full_stack.resolve(destination)["name"].startswith("aws-waf-logs-")
