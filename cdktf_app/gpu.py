"""GPU capacity for the two APIs: its settings, the instance types it knows, and how tasks are sized on it.

With ``gpu = true`` the detection and depth APIs run on a second auto scaling group of GPU instances
(the ECS GPU-optimized AMI, which brings the NVIDIA driver and container runtime), each task holding
one whole GPU (ECS never shares a GPU between tasks) and running the image's GPU variant with
``DEVICE=cuda``. The web page stays on the CPU instances.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, ClassVar

from pydantic import Field

from cdktf_app.setting_types import _INSTANCE_TYPE, Formats, Positive, _Strict
from delivery.images import GPU_VARIANT, variant_tag
from delivery.routes import SERVICES, ServiceRoute

if TYPE_CHECKING:
    from cdktf_app.config import Settings

# Share of an instance's memory given to its GPU tasks; the rest is the OS's, the ECS agent's, Docker's
# and the NVIDIA driver's (ECS registers less than the instance's nominal memory).
TASK_MEMORY_SHARE = 0.85
# The upper bound of task CPU units that the services' task_cpu setting has too.
MAX_TASK_CPU = 10240


@dataclass(frozen=True)
class GpuInstance:
    """One GPU instance type: vCPUs, memory (GiB), GPUs and their model."""

    vcpus: int
    memory_gib: int
    gpus: int
    gpu_model: str


def _family(prefix: str, gpu_model: str, memory_per_vcpu: int) -> dict[str, GpuInstance]:
    # The sizes of the g4dn/g5/g6/g6e families: vCPUs and GPUs per size; memory is vCPUs × a constant.
    sizes = {"xlarge": (4, 1), "2xlarge": (8, 1), "4xlarge": (16, 1), "8xlarge": (32, 1)}
    sizes |= {"12xlarge": (48, 4), "16xlarge": (64, 1)}
    if prefix != "g4dn":
        sizes |= {"24xlarge": (96, 4), "48xlarge": (192, 8)}
    return {
        f"{prefix}.{size}": GpuInstance(vcpus, vcpus * memory_per_vcpu, gpus, gpu_model)
        for size, (vcpus, gpus) in sizes.items()
    }


#: The x86 GPU instance types this stack sizes tasks for (AWS's instance type pages). Other families are
#: refused: the Graviton ones (g5g) cannot run the x86 image, and CUDA 13 (onnxruntime-gpu 1.31's
#: runtime) no longer supports the V100 of p3.
GPU_INSTANCES: dict[str, GpuInstance] = {
    **_family("g4dn", "NVIDIA T4 (16 GB)", 4),
    **_family("g5", "NVIDIA A10G (24 GB)", 4),
    **_family("g6", "NVIDIA L4 (24 GB)", 4),
    **_family("g6e", "NVIDIA L40S (48 GB)", 8),
}


class GpuFields(_Strict):
    """The settings of the GPU capacity (``settings.toml``, "GPU capacity for the APIs")."""

    gpu: bool = False
    gpu_instance_type: str = "g6.xlarge"
    gpu_ami_ssm_parameter: str = "/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id"
    gpu_root_volume_size: Annotated[int, Field(ge=30, le=16384)] = 60
    gpu_asg_min_size: Annotated[int, Field(ge=0)] = 2
    gpu_asg_max_size: Positive = 4

    _FORMATS: ClassVar[Formats] = {
        "gpu_instance_type": (_INSTANCE_TYPE, "an EC2 instance type such as g6.xlarge", False),
    }


def runs_on_gpu(settings: Settings, route: ServiceRoute) -> bool:
    """True for the two APIs when the GPU capacity is on; the web page always runs on CPU instances."""
    return settings.gpu and not route.is_default_route


def image_tag(settings: Settings, route: ServiceRoute) -> str:
    """The tag the service runs: the GPU variant's (``<tag>-gpu``) on GPU capacity, else the plain one."""
    tag = settings.image_tag_for(route.name)
    return variant_tag(tag, GPU_VARIANT) if runs_on_gpu(settings, route) else tag


@dataclass(frozen=True)
class TaskSize:
    """CPU units and MiB of one task and of its app container (the rest is the Service Connect proxy's)."""

    task_cpu: int
    task_memory: int
    container_cpu: int
    container_memory: int
    container_memory_reservation: int


def task_size(settings: Settings, route: ServiceRoute) -> TaskSize:
    """The service's sizes: on GPU capacity, the share of the instance that comes with one GPU.

    A GPU task holds a whole GPU, so an instance runs as many API tasks as it has GPUs and nothing else;
    each gets that share of the vCPUs and of :data:`TASK_MEMORY_SHARE` of the memory (256 MiB steps).
    On CPU capacity the sizes are the service's settings.
    """
    from cdktf_app.config import PROXY_CPU_UNITS, PROXY_MEMORY_MIB  # config builds on this module

    service = settings.services[route.name]
    if not runs_on_gpu(settings, route):
        return TaskSize(
            service.task_cpu,
            service.task_memory,
            service.container_cpu,
            service.container_memory,
            service.container_memory_reservation,
        )
    instance = GPU_INSTANCES[settings.gpu_instance_type]
    cpu = min(instance.vcpus * 1024 // instance.gpus, MAX_TASK_CPU)
    memory = int(instance.memory_gib * 1024 * TASK_MEMORY_SHARE / instance.gpus) // 256 * 256
    container_memory = memory - PROXY_MEMORY_MIB
    return TaskSize(
        cpu,
        memory,
        cpu - PROXY_CPU_UNITS,
        container_memory,
        min(service.container_memory_reservation, container_memory),
    )


def check_gpu(settings: Settings) -> None:
    """GPU settings that must agree with each other; each message names the settings involved."""
    if not settings.gpu:
        return
    instance = GPU_INSTANCES.get(settings.gpu_instance_type)
    if instance is None:
        known = ", ".join(sorted({name.split(".")[0] for name in GPU_INSTANCES}))
        raise ValueError(
            f"gpu_instance_type: {settings.gpu_instance_type} is not an x86 NVIDIA GPU instance type this "
            f"stack knows (families {known}, e.g. g6.xlarge); set gpu = false to run the APIs on "
            "instance_type instead"
        )
    if "/gpu/" not in settings.gpu_ami_ssm_parameter:
        raise ValueError(
            f"gpu_ami_ssm_parameter: {settings.gpu_ami_ssm_parameter} is not an ECS GPU-optimized AMI "
            "parameter (…/gpu/recommended/image_id): only that AMI has the NVIDIA driver and runtime"
        )
    if not settings.gpu_asg_min_size <= settings.gpu_asg_max_size:
        raise ValueError(
            f"gpu_asg_min_size ({settings.gpu_asg_min_size}) must not exceed gpu_asg_max_size "
            f"({settings.gpu_asg_max_size})"
        )
    apis = [route.name for route in SERVICES if not route.is_default_route]
    # A rolling deploy starts each API's new task before it stops an old one: one more GPU per API.
    needed = sum(settings.services[name].min_count for name in apis) + len(apis)
    if settings.gpu_asg_max_size * instance.gpus < needed:
        raise ValueError(
            f"gpu_asg_max_size ({settings.gpu_asg_max_size}) × {instance.gpus} GPU(s) of "
            f"{settings.gpu_instance_type} holds fewer than the {needed} API tasks a deploy needs "
            f"(each task takes a whole GPU: the min_count of {' and '.join(apis)}, plus one new task "
            "per API while it rolls out); raise gpu_asg_max_size"
        )
