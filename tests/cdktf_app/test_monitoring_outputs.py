"""Alarms, provider, state backend and the outputs ``make deploy`` reads."""

from __future__ import annotations

import json

from cdktf_app.cdk import Testing
from delivery.routes import SERVICES
from tests.cdktf_app.helpers import Synthesized

Testing.__test__ = False

OUTPUTS = {
    "alb_dns_name",
    "ui_url",
    "detection_api_url",
    "depth_api_url",
    "public_apis",
    "page_access",
    "user_pool_id",
    "ecs_cluster_name",
    "ecs_service_names",
    "log_group_names",
    "ecr_repository_urls",
    "alarm_topic_arn",
}
# The original Terraform's outputs whose resource exists here (names as docs/deployment.md records them).
ORIGINAL_OUTPUTS = {
    "region",
    "vpc_id",
    "public_subnet_ids",
    "private_subnet_ids",
    "alb_security_group_id",
    "ecs_security_group_id",
    "ecs_instance_role_name",
    "ecs_instance_role_arn",
    "alb_name",
    "alb_zone_id",
    "target_group_arns",
}
SERVICE_KEYS = {route.name for route in SERVICES}


def _alarms(stack: Synthesized, metric: str) -> list[dict]:
    return [a for a in stack.resources("aws_cloudwatch_metric_alarm") if a.get("metric_name") == metric]


def test_load_balancer_alarms_per_target_group(full_stack: Synthesized) -> None:
    stack = full_stack
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


def test_private_apis_are_watched_through_service_connect_metrics(stack: Synthesized) -> None:
    for metric in ("HTTPCode_Target_5XX_Count", "TargetResponseTime"):
        by_service = {a["dimensions"].get("DiscoveryName"): a for a in _alarms(stack, metric)}
        assert set(by_service) == {None, "detection", "depth"}, metric  # None: the UI, behind the ALB
        assert by_service["depth"]["namespace"] == "AWS/ECS"
        assert stack.resolve(by_service["depth"]["dimensions"]["ServiceName"])["name"] == "depth-api-service"
    assert {
        stack.resolve(a["dimensions"]["TargetGroup"])["name"] for a in _alarms(stack, "UnHealthyHostCount")
    } == {"webapp-tg"}


def test_a_missing_task_alarms(any_stack: Synthesized) -> None:
    alarms = _alarms(any_stack, "RunningTaskCount")
    assert len(alarms) == len(SERVICES)
    for alarm in alarms:
        assert alarm["comparison_operator"] == "LessThanThreshold"
        assert alarm["treat_missing_data"] == "breaching"
        name = any_stack.resolve(alarm["dimensions"]["ServiceName"])["name"]
        service = next(s for s in any_stack.settings.services.values() if s.service_name == name)
        assert alarm["threshold"] == service.min_count


def test_cpu_and_memory_alarms_are_per_service_and_only_notify(stack: Synthesized) -> None:
    for metric in ("CPUUtilization", "MemoryUtilization"):
        alarms = _alarms(stack, metric)
        assert len(alarms) == len(SERVICES)
        assert all(a["namespace"] == "AWS/ECS" and "ServiceName" in a["dimensions"] for a in alarms)
    topics = {a["alarm_actions"][0] for a in stack.resources("aws_cloudwatch_metric_alarm")}
    assert len(topics) == 1 and topics.pop().startswith("${aws_sns_topic."), "alarms notify, never scale"


def test_outputs_have_the_names_the_deploy_script_reads(any_stack: Synthesized) -> None:
    outputs = any_stack.doc["output"]
    assert set(outputs) == OUTPUTS | ORIGINAL_OUTPUTS
    for name in ("ecs_service_names", "log_group_names", "ecr_repository_urls"):
        assert set(outputs[name]["value"]) == SERVICE_KEYS, name
    names = {
        key: any_stack.resolve(ref)["name"] for key, ref in outputs["ecs_service_names"]["value"].items()
    }
    assert names == {key: s.service_name for key, s in any_stack.settings.services.items()}


def test_urls_private_by_default_public_with_a_certificate(
    stack: Synthesized, full_stack: Synthesized
) -> None:
    plain = {
        name: stack.doc["output"][name]["value"] for name in ("ui_url", "detection_api_url", "depth_api_url")
    }
    assert plain["ui_url"].startswith("http://${aws_lb.") and plain["ui_url"].endswith(".dns_name}/")
    assert plain["detection_api_url"] == "http://detection:5001/yoloapi"
    assert plain["depth_api_url"] == "http://depth:5050/depthapi"
    assert stack.doc["output"]["public_apis"]["value"] is False
    secure = full_stack.doc["output"]
    assert secure["ui_url"]["value"] == "https://objdepth.example.com/"
    assert secure["detection_api_url"]["value"] == "https://objdepth.example.com/yoloapi"
    assert secure["public_apis"]["value"] is True


def test_the_original_outputs_point_at_their_resources(full_stack: Synthesized) -> None:
    outputs = {name: full_stack.doc["output"][name]["value"] for name in ORIGINAL_OUTPUTS}
    assert outputs["region"] == "eu-west-1"
    assert full_stack.resolve(outputs["vpc_id"])["cidr_block"] == "10.0.0.0/16"
    assert [full_stack.resolve(s)["tags"]["Tier"] for s in outputs["private_subnet_ids"]] == ["private"] * 2
    assert [full_stack.resolve(s)["tags"]["Tier"] for s in outputs["public_subnet_ids"]] == ["public"] * 2
    assert full_stack.resolve(outputs["alb_security_group_id"])["name"] == "objdepth-cluster-alb"
    assert full_stack.resolve(outputs["ecs_security_group_id"])["name"] == "objdepth-cluster-instances"
    assert full_stack.resolve(outputs["ecs_instance_role_arn"])["name"] == "objdepth-cluster-instance"
    assert outputs["alb_zone_id"].endswith(".zone_id}")
    assert set(outputs["target_group_arns"]) == SERVICE_KEYS


def test_provider_region_account_guard_and_tags(stack: Synthesized, full_stack: Synthesized) -> None:
    (aws,) = stack.doc["provider"]["aws"]
    assert aws["region"] == "us-east-1"
    assert aws["allowed_account_ids"] == ["123456789012"], "the account synth was resolved for"
    assert aws["default_tags"][0]["tags"]["Project"] == "objdepth"
    (aws_full,) = full_stack.doc["provider"]["aws"]
    assert (aws_full["region"], aws_full["allowed_account_ids"]) == ("eu-west-1", ["123456789012"])


def test_state_is_remote_versioned_and_locked_by_default(stack: Synthesized, full_stack: Synthesized) -> None:
    assert stack.doc["terraform"]["required_version"] == ">= 1.10.0", "use_lockfile needs Terraform 1.10"
    assert stack.doc["terraform"]["backend"] == {
        "s3": {
            "bucket": "objdepth-cluster-tfstate-123456789012-us-east-1",
            "key": "objdepth/terraform.tfstate",
            "region": "us-east-1",
            "encrypt": True,
            "use_lockfile": True,
        }
    }
    assert full_stack.doc["terraform"]["backend"]["s3"]["bucket"] == "objdepth-state"


def test_the_local_backend_is_a_relative_path(tmp_path) -> None:
    """The opt-out backend keeps the state at the repository root without naming this machine's path."""
    from cdktf_app.settings_file import settings_from_dict
    from tests.cdktf_app.helpers import DEPLOYED, raw_settings, synth

    settings = settings_from_dict({**raw_settings(), "state_backend": "local"}, environ=DEPLOYED)
    doc = json.loads(synth(settings, tmp_path))
    assert doc["terraform"]["backend"] == {"local": {"path": "../../../terraform.objdepth.tfstate"}}
    assert str(tmp_path) not in json.dumps(doc)
