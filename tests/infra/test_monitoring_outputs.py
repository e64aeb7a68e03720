"""Alarms, provider, state backend and the outputs ``make deploy`` reads."""

from __future__ import annotations

from apis.routes import SERVICES
from cdktf_app.cdk import Testing
from tests.infra.helpers import Synthesized

Testing.__test__ = False

OUTPUTS = {
    "alb_dns_name",
    "ui_url",
    "detection_api_url",
    "depth_api_url",
    "ecs_cluster_name",
    "ecs_service_names",
    "log_group_names",
    "ecr_repository_urls",
}
SERVICE_KEYS = {route.name for route in SERVICES}


def _alarms(stack: Synthesized, metric: str) -> list[dict]:
    return [a for a in stack.resources("aws_cloudwatch_metric_alarm") if a["metric_name"] == metric]


def test_load_balancer_alarms_per_target_group(stack: Synthesized) -> None:
    (elb_5xx,) = _alarms(stack, "HTTPCode_ELB_5XX_Count")
    assert set(elb_5xx["dimensions"]) == {"LoadBalancer"}
    for metric in ("UnHealthyHostCount", "TargetResponseTime", "HTTPCode_Target_5XX_Count"):
        alarms = _alarms(stack, metric)
        groups = {stack.resolve(a["dimensions"]["TargetGroup"])["name"] for a in alarms}
        assert groups == {s.target_group_name for s in stack.settings.services.values()}, metric
    (depth_latency,) = [
        a
        for a in _alarms(stack, "TargetResponseTime")
        if a["alarm_name"] == "objdepth-cluster-depth-response-time"
    ]
    assert depth_latency["threshold"] == stack.settings.services["depth"].response_time_alarm_seconds


def test_cpu_and_memory_alarms_are_per_service_and_only_notify(stack: Synthesized) -> None:
    for metric in ("CPUUtilization", "MemoryUtilization"):
        alarms = _alarms(stack, metric)
        assert len(alarms) == len(SERVICES)
        assert all(a["namespace"] == "AWS/ECS" and "ServiceName" in a["dimensions"] for a in alarms)
    topics = {a["alarm_actions"][0] for a in stack.resources("aws_cloudwatch_metric_alarm")}
    assert len(topics) == 1 and topics.pop().startswith("${aws_sns_topic."), "alarms notify, never scale"


def test_alarm_topic_is_encrypted_and_mails_only_when_asked(
    stack: Synthesized, full_stack: Synthesized
) -> None:
    assert Testing.to_have_resource_with_properties(
        stack.text, "aws_sns_topic", {"name": "objdepth-cluster-alarms", "kms_master_key_id": "alias/aws/sns"}
    )
    assert stack.resources("aws_sns_topic_subscription") == []
    (mail,) = full_stack.resources("aws_sns_topic_subscription")
    assert (mail["protocol"], mail["endpoint"]) == ("email", "ops@example.com")


def test_outputs_have_the_names_the_deploy_script_reads(any_stack: Synthesized) -> None:
    outputs = any_stack.doc["output"]
    assert set(outputs) == OUTPUTS
    for name in ("ecs_service_names", "log_group_names", "ecr_repository_urls"):
        assert set(outputs[name]["value"]) == SERVICE_KEYS, name
    names = {
        key: any_stack.resolve(ref)["name"] for key, ref in outputs["ecs_service_names"]["value"].items()
    }
    assert names == {key: s.service_name for key, s in any_stack.settings.services.items()}


def test_urls_without_and_with_a_certificate(stack: Synthesized, full_stack: Synthesized) -> None:
    plain = {
        name: stack.doc["output"][name]["value"] for name in ("ui_url", "detection_api_url", "depth_api_url")
    }
    assert plain["ui_url"].startswith("http://${aws_lb.") and plain["ui_url"].endswith(".dns_name}/")
    assert plain["detection_api_url"] == plain["ui_url"].rstrip("/") + "/yoloapi"
    assert plain["depth_api_url"] == plain["ui_url"].rstrip("/") + "/depthapi"
    secure = full_stack.doc["output"]
    assert secure["ui_url"]["value"] == "https://objdepth.example.com/"
    assert secure["detection_api_url"]["value"] == "https://objdepth.example.com/yoloapi"


def test_provider_region_account_guard_and_tags(stack: Synthesized, full_stack: Synthesized) -> None:
    (aws,) = stack.doc["provider"]["aws"]
    assert aws["region"] == "us-east-1"
    assert "allowed_account_ids" not in aws
    assert aws["default_tags"][0]["tags"]["Project"] == "objdepth"
    (aws_full,) = full_stack.doc["provider"]["aws"]
    assert (aws_full["region"], aws_full["allowed_account_ids"]) == ("eu-west-1", ["123456789012"])


def test_state_stays_local_unless_a_bucket_is_given(stack: Synthesized, full_stack: Synthesized) -> None:
    assert "backend" not in stack.doc["terraform"]
    s3 = full_stack.doc["terraform"]["backend"]["s3"]
    assert s3 == {
        "bucket": "objdepth-state",
        "key": "objdepth/terraform.tfstate",
        "region": "eu-west-1",
        "encrypt": True,
        "use_lockfile": True,
    }
