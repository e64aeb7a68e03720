"""GPU capacity (``gpu = true``): settings it refuses, and the synthesized stack's GPU parts (checkov scans
``gpu_stack`` too, in tests/cdktf_app/test_checkov.py).

``gpu_stack`` is the production stack of ``full_stack`` with the APIs on g6.xlarge instances; whatever the
GPU option does not touch (scaling, alarms, health checks, the page) must equal ``full_stack``'s.
"""

from __future__ import annotations

import base64
import json

import pytest

from cdktf_app.config import SettingsError
from cdktf_app.gpu import GPU_INSTANCES, task_size
from cdktf_app.settings_file import settings_from_dict
from delivery.routes import SERVICES, ServiceRoute, by_name
from tests.cdktf_app.helpers import DEPLOYED, GPU_OPTIONS, Synthesized, raw_settings

APIS = [route for route in SERVICES if not route.is_default_route]
GPU_AMI = "/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id"
CPU_AMI = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"


def _settings(**overrides):
    return settings_from_dict({**raw_settings(), **GPU_OPTIONS, **overrides}, environ=DEPLOYED)


def test_the_repository_settings_keep_the_apis_on_cpu() -> None:
    settings = settings_from_dict(raw_settings(), environ=DEPLOYED)
    assert settings.gpu is False
    assert settings.gpu_ami_ssm_parameter == GPU_AMI


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"gpu_instance_type": "c6i.xlarge"}, "gpu_instance_type: c6i.xlarge is not an x86 NVIDIA GPU"),
        ({"gpu_instance_type": "g5g.xlarge"}, "gpu_instance_type: g5g.xlarge is not an x86 NVIDIA GPU"),
        ({"gpu_instance_type": "p3.2xlarge"}, "gpu_instance_type: p3.2xlarge is not"),
        ({"gpu_instance_type": "G6.XLARGE"}, "gpu_instance_type: 'G6.XLARGE' is not an EC2 instance type"),
        ({"gpu_ami_ssm_parameter": CPU_AMI}, f"gpu_ami_ssm_parameter: {CPU_AMI} is not an ECS GPU-optimized"),
        ({"gpu_ami_ssm_parameter": "/my/ami"}, "not one of the public ECS-optimized AMI parameters"),
        ({"gpu_asg_min_size": 5, "gpu_asg_max_size": 4}, "gpu_asg_min_size (5) must not exceed"),
        ({"gpu_asg_max_size": 3}, "holds fewer than the 4 API tasks a deploy needs"),
    ],
)
def test_bad_gpu_settings_are_refused_naming_the_setting(overrides: dict, message: str) -> None:
    with pytest.raises(SettingsError, match="invalid settings") as raised:
        _settings(**overrides)
    assert message in str(raised.value)


def test_bad_gpu_settings_are_ignored_while_gpu_is_off() -> None:
    assert not _settings(gpu=False, gpu_instance_type="c6i.xlarge").gpu


def test_a_multi_gpu_instance_holds_several_api_tasks() -> None:
    settings = _settings(gpu_instance_type="g6.12xlarge", gpu_asg_min_size=1, gpu_asg_max_size=1)
    size = task_size(settings, by_name("depth"))
    assert GPU_INSTANCES["g6.12xlarge"].gpus == 4
    # A quarter of 48 vCPUs (12288 units), capped as the task_cpu setting is; 85 % of 192 GiB / 4.
    assert (size.task_cpu, size.task_memory) == (10240, 192 * 1024 * 85 // 100 // 4 // 256 * 256)


def _capacity_provider_of(stack: Synthesized, route: ServiceRoute) -> str:
    service = stack.one("aws_ecs_service", name=stack.settings.services[route.name].service_name)
    (strategy,) = service["capacity_provider_strategy"]
    return stack.resolve(strategy["capacity_provider"])["name"]


def test_gpu_instances_use_the_gpu_ami_and_instance_type(gpu_stack: Synthesized) -> None:
    template = gpu_stack.one("aws_launch_template", name="objdepth-cluster-gpu-instances")
    assert gpu_stack.resolve(template["image_id"])["name"] == GPU_AMI
    assert template["instance_type"] == "g6.xlarge"
    assert template["metadata_options"]["http_tokens"] == "required"
    assert template["block_device_mappings"][0]["ebs"]["volume_size"] == 60
    assert template["network_interfaces"][0]["associate_public_ip_address"] == "false"
    script = base64.b64decode(template["user_data"]).decode()
    assert "ECS_CLUSTER=objdepth-cluster\n" in script and "ECS_ENABLE_GPU_SUPPORT=true\n" in script
    cpu_template = gpu_stack.one("aws_launch_template", name="objdepth-cluster-instances")
    assert cpu_template["instance_type"] == "c6i.xlarge"
    assert "GPU" not in base64.b64decode(cpu_template["user_data"]).decode()


def test_the_gpu_group_has_its_own_managed_capacity_provider(gpu_stack: Synthesized) -> None:
    group = gpu_stack.one("aws_autoscaling_group", name="objdepth-cluster-gpu-instances")
    assert (group["min_size"], group["max_size"], group["desired_capacity"]) == (4, 8, 4)  # production.toml
    assert {"key": "AmazonECSManaged", "value": "true", "propagate_at_launch": True} in group["tag"]
    assert group["protect_from_scale_in"] is True
    provider = gpu_stack.one("aws_ecs_capacity_provider", name="objdepth-cluster-gpu")
    asg_provider = provider["auto_scaling_group_provider"]
    assert gpu_stack.resolve(asg_provider["auto_scaling_group_arn"]) is group
    assert asg_provider["managed_scaling"]["status"] == "ENABLED"
    (association,) = gpu_stack.resources("aws_ecs_cluster_capacity_providers")
    names = [gpu_stack.resolve(ref)["name"] for ref in association["capacity_providers"]]
    assert names == ["objdepth-cluster-ec2", "objdepth-cluster-gpu"]
    (default,) = association["default_capacity_provider_strategy"]
    assert gpu_stack.resolve(default["capacity_provider"])["name"] == "objdepth-cluster-ec2"


def test_the_apis_run_on_gpus_and_the_page_on_cpu(gpu_stack: Synthesized) -> None:
    containers = gpu_stack.containers()
    for route in SERVICES:
        service = gpu_stack.settings.services[route.name]
        container = containers[service.container_name]
        environment = {e["name"]: e["value"] for e in container["environment"]}
        task = gpu_stack.one("aws_ecs_task_definition", family=service.task_family)
        if route.is_default_route:
            assert _capacity_provider_of(gpu_stack, route) == "objdepth-cluster-ec2"
            assert "resourceRequirements" not in container
            assert container["image"].endswith(":0123456789ab")
            assert "DEVICE" not in environment
            assert (task["cpu"], task["memory"]) == (str(service.task_cpu), str(service.task_memory))
            continue
        assert _capacity_provider_of(gpu_stack, route) == "objdepth-cluster-gpu"
        assert container["resourceRequirements"] == [{"type": "GPU", "value": "1"}]
        assert container["image"].endswith(":0123456789ab-gpu")
        assert environment["DEVICE"] == "cuda"
        # g6.xlarge: 4 vCPU and 85 % of 16 GiB for the one task its one GPU allows.
        assert (task["cpu"], task["memory"]) == ("4096", "13824")
        assert (container["cpu"], container["memory"]) == (4096 - 128, 13824 - 64)
        assert container["memoryReservation"] <= container["memory"]


def test_the_gpu_images_come_from_the_same_repositories(
    gpu_stack: Synthesized, full_stack: Synthesized
) -> None:
    assert gpu_stack.doc["resource"]["aws_ecr_repository"] == full_stack.doc["resource"]["aws_ecr_repository"]
    for route in APIS:
        name = gpu_stack.settings.services[route.name].container_name
        gpu_image = gpu_stack.containers()[name]["image"]
        assert gpu_image == full_stack.containers()[name]["image"] + "-gpu"


@pytest.mark.parametrize(
    "resource_type",
    [
        "aws_appautoscaling_target",
        "aws_appautoscaling_policy",
        "aws_cloudwatch_metric_alarm",
        "aws_lb_target_group",
        "aws_iam_role_policy",
    ],
)
def test_scaling_alarms_and_health_checks_are_those_of_the_cpu_stack(
    gpu_stack: Synthesized, full_stack: Synthesized, resource_type: str
) -> None:
    assert gpu_stack.doc["resource"][resource_type] == full_stack.doc["resource"][resource_type]


def test_containers_differ_from_the_cpu_stack_only_in_the_gpu_parts(
    gpu_stack: Synthesized, full_stack: Synthesized
) -> None:
    gpu_parts = {"image", "cpu", "memory", "memoryReservation", "resourceRequirements"}
    for name, container in gpu_stack.containers().items():
        cpu_container = full_stack.containers()[name]
        for definition in (container, cpu_container):
            definition["environment"] = [e for e in definition["environment"] if e["name"] != "DEVICE"]
        assert {k: v for k, v in container.items() if k not in gpu_parts} == {
            k: v for k, v in cpu_container.items() if k not in gpu_parts
        }


def test_the_dashboard_charts_the_gpu_capacity_provider_too(gpu_stack: Synthesized) -> None:
    (dashboard,) = gpu_stack.resources("aws_cloudwatch_dashboard")
    (widget,) = [
        w
        for w in json.loads(dashboard["dashboard_body"])["widgets"]
        if w["properties"]["title"] == "cluster: capacity provider use (%)"
    ]
    lines = {m[-1]["label"]: gpu_stack.resolve(m[5]) for m in widget["properties"]["metrics"]}
    assert {label: provider["name"] for label, provider in lines.items()} == {
        "reservation": "objdepth-cluster-ec2",
        "GPU reservation": "objdepth-cluster-gpu",
    }
