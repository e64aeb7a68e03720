"""ECS cluster, container instances, capacity provider, and the IAM and ECR resources around them."""

from __future__ import annotations

import base64
import json

from cdktf_app.cdk import Testing
from tests.cdktf_app.helpers import Synthesized

Testing.__test__ = False


def test_cluster_has_container_insights(stack: Synthesized) -> None:
    assert Testing.to_have_resource_with_properties(
        stack.text,
        "aws_ecs_cluster",
        {"name": "objdepth-cluster", "setting": [{"name": "containerInsights", "value": "enabled"}]},
    )


def test_launch_template_looks_up_the_ecs_ami_and_hardens_the_instance(stack: Synthesized) -> None:
    (template,) = stack.resources("aws_launch_template")
    ami = stack.resolve(template["image_id"])
    assert ami["name"] == "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
    assert "ami-" not in template["image_id"]
    assert template["metadata_options"]["http_tokens"] == "required"
    assert template["metadata_options"]["http_put_response_hop_limit"] == 1
    (volume,) = template["block_device_mappings"]
    assert volume["ebs"]["encrypted"] == "true"
    assert volume["ebs"]["volume_type"] == "gp3"
    assert volume["ebs"]["volume_size"] >= 30
    assert template["instance_type"] == "t3.large"


def test_user_data_joins_the_cluster(stack: Synthesized) -> None:
    script = base64.b64decode(stack.resources("aws_launch_template")[0]["user_data"]).decode()
    assert script.startswith("#!/bin/bash")
    assert "ECS_CLUSTER=objdepth-cluster\n" in script
    assert "ECS_ENABLE_TASK_IAM_ROLE=true" in script


def test_auto_scaling_group_spans_both_subnets_and_is_ecs_managed(stack: Synthesized) -> None:
    (group,) = stack.resources("aws_autoscaling_group")
    settings = stack.settings
    assert (group["min_size"], group["max_size"]) == (settings.asg_min_size, settings.asg_max_size)
    assert len(group["vpc_zone_identifier"]) == 2
    assert group["protect_from_scale_in"] is True
    assert {"key": "AmazonECSManaged", "value": "true", "propagate_at_launch": True} in group["tag"]
    assert "desired_capacity" in group["lifecycle"]["ignore_changes"]
    assert group["launch_template"]["version"] == "$Latest"


def test_capacity_provider_with_managed_scaling_is_the_cluster_default(stack: Synthesized) -> None:
    (provider,) = stack.resources("aws_ecs_capacity_provider")
    asg_provider = provider["auto_scaling_group_provider"]
    assert stack.resolve(asg_provider["auto_scaling_group_arn"])["name"] == ("objdepth-cluster-instances")
    assert asg_provider["managed_scaling"]["status"] == "ENABLED"
    assert asg_provider["managed_termination_protection"] == "ENABLED"
    (association,) = stack.resources("aws_ecs_cluster_capacity_providers")
    assert association["capacity_providers"] == [provider_name := association["capacity_providers"][0]]
    assert association["default_capacity_provider_strategy"][0]["capacity_provider"] == provider_name
    assert provider_name.startswith("${aws_ecs_capacity_provider.")


def test_instance_role_is_created_with_the_ecs_instance_policy(stack: Synthesized) -> None:
    profile = stack.one("aws_iam_instance_profile", name="objdepth-cluster-instance")
    role = stack.one("aws_iam_role", name="objdepth-cluster-instance")
    assert json.loads(role["assume_role_policy"])["Statement"][0]["Principal"] == {
        "Service": "ec2.amazonaws.com"
    }
    assert profile["role"].endswith(".name}")
    attached = {a["policy_arn"] for a in stack.resources("aws_iam_role_policy_attachment")}
    assert "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role" in attached


def test_ecr_repositories_scan_on_push_and_expire_old_images(stack: Synthesized) -> None:
    names = {r["name"] for r in stack.resources("aws_ecr_repository")}
    assert names == {"yoloflask/api", "depthanythingflask/api", "objectdetectionreact/webapp"}
    for repository in stack.resources("aws_ecr_repository"):
        assert repository["image_scanning_configuration"] == {"scan_on_push": True}
        assert repository["image_tag_mutability"] == "IMMUTABLE"
        assert repository["encryption_configuration"] == [{"encryption_type": "KMS"}]
    for lifecycle in stack.resources("aws_ecr_lifecycle_policy"):
        rules = json.loads(lifecycle["policy"])["rules"]
        assert [r["selection"]["tagStatus"] for r in rules] == ["untagged", "any"]
        assert rules[1]["selection"]["countNumber"] == stack.settings.ecr_max_image_count
