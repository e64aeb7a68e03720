"""How ECS runs each container, read from the synthesized stack (``python -m cdktf_app``).

The container smoke starts the images the way the task definitions say (environment, user,
read-only root, writable mounts, health command), so it reads them here instead of restating them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from delivery.routes import ServiceRoute

ROOT = Path(__file__).resolve().parent.parent
STACK_FILE = Path("cdktf.out/stacks/objdepth/cdk.tf.json")
TERRAFORM_REFERENCE = "${"
# The load balancer's own address as an origin: http(s)://${aws_lb....dns_name} with no path.
ORIGIN_REFERENCE = re.compile(r"https?://\$\{[^}]+\}")
LOCAL_ORIGIN = "http://127.0.0.1"


SMOKE_ACCOUNT_ID = "000000000000"
SMOKE_IMAGE_TAG = "smoke"


@dataclass(frozen=True)
class ContainerRun:
    """One service's container as its task definition describes it."""

    service: str
    environment: Mapping[str, str]
    secret_names: tuple[str, ...]
    user: str | None
    read_only: bool
    writable_paths: tuple[str, ...]
    health_command: tuple[str, ...]


def synthesize(workdir: Path, root: Path = ROOT) -> dict:
    """Run ``python -m cdktf_app`` in ``workdir`` (about 20 s) and return the stack's Terraform JSON."""
    # A placeholder account and tag: synth then asks AWS nothing (the smoke runs its own local images).
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "AWS_ACCOUNT_ID": SMOKE_ACCOUNT_ID,
        "IMAGE_TAG": SMOKE_IMAGE_TAG,
    }
    result = subprocess.run(
        [sys.executable, "-m", "cdktf_app"], cwd=workdir, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"`python -m cdktf_app` failed:\n{result.stdout}{result.stderr}")
    return json.loads((workdir / STACK_FILE).read_text())


def container_runs(stack: dict, routes: Iterable[ServiceRoute]) -> dict[str, ContainerRun]:
    """Each route's container, found by the port it maps (task definitions hold one container each)."""
    containers = [
        container
        for definition in stack["resource"]["aws_ecs_task_definition"].values()
        for container in json.loads(definition["container_definitions"])
    ]
    runs: dict[str, ContainerRun] = {}
    for route in routes:
        (container,) = [
            c for c in containers if any(m["containerPort"] == route.port for m in c.get("portMappings", []))
        ]
        runs[route.name] = ContainerRun(
            service=route.name,
            environment={item["name"]: item["value"] for item in container.get("environment", [])},
            secret_names=tuple(item["name"] for item in container.get("secrets", [])),
            user=container.get("user"),
            read_only=bool(container.get("readonlyRootFilesystem")),
            writable_paths=tuple(m["containerPath"] for m in container.get("mountPoints", [])),
            health_command=tuple(container.get("healthCheck", {}).get("command", ())),
        )
    return runs


def localize(
    environment: Mapping[str, str], routes: Iterable[ServiceRoute], base_urls: Mapping[str, str]
) -> dict[str, str]:
    """Point values that name deploy-time addresses at the local containers.

    An API's Service Connect URL (``http://detection:5001/yoloapi``) or a load balancer URL under its
    prefix (``http://${aws_lb....dns_name}/yoloapi``) becomes ``base_urls["detection"] + "/yoloapi"``;
    the load balancer's bare origin (the APIs' ``CORS_ORIGINS``: the page's address) becomes the page's
    base URL, or ``LOCAL_ORIGIN`` before the page is started. Any other Terraform reference, or an API
    without a base URL yet, is an error: the smoke could not run that setting truthfully.
    """
    routes = list(routes)
    prefixed = [route for route in routes if route.path_prefix]
    page = next((route for route in routes if route.is_default_route), None)
    result: dict[str, str] = {}
    for name, value in environment.items():
        connect = [r for r in prefixed if value == r.internal_url]
        if ORIGIN_REFERENCE.fullmatch(value):
            value = base_urls.get(page.name, LOCAL_ORIGIN) if page else LOCAL_ORIGIN
        elif connect or TERRAFORM_REFERENCE in value:
            matches = connect or [route for route in prefixed if value.endswith(route.path_prefix)]
            if not matches or matches[0].name not in base_urls:
                raise ValueError(f"{name}={value}: a deploy-time value with no local equivalent")
            value = base_urls[matches[0].name] + matches[0].path_prefix
        result[name] = value
    return result


def exec_form(command: Iterable[str]) -> list[str]:
    """An ECS ``healthCheck.command`` (``["CMD", ...]`` or ``["CMD-SHELL", "..."]``) as an argv."""
    kind, *rest = command
    return rest if kind == "CMD" else ["sh", "-c", *rest]
