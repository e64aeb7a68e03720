"""The container smoke's parts that need no engine: task definitions, sizes, the build command line."""

import json
import subprocess

import pytest

from delivery import image_smoke, task_definitions
from delivery.base_image import arg_default
from delivery.engine import ContainerEngine
from delivery.images import IMAGES, ROOT
from delivery.routes import DEPTH, DETECTION, SERVICES, UI

LB = "http://${aws_lb.load-balancer_alb_15AADC07.dns_name}"


def _task(port: int, **container) -> dict:
    container = {"portMappings": [{"containerPort": port, "hostPort": 0}], **container}
    return {"container_definitions": json.dumps([container])}


def test_each_route_gets_the_container_that_maps_its_port():
    stack = {
        "resource": {
            "aws_ecs_task_definition": {
                "a": _task(UI.port, environment=[{"name": "DETECTION_API_URL", "value": f"{LB}/yoloapi"}],
                           secrets=[{"name": "COOKIE", "valueFrom": "arn:..."}], user="10001",
                           readonlyRootFilesystem=True, mountPoints=[{"containerPath": "/tmp"}],
                           healthCheck={"command": ["CMD", "true"]}),
                "b": _task(DETECTION.port, environment=[{"name": "PATH_PREFIX", "value": "/yoloapi"}]),
            }
        }
    }  # fmt: skip

    runs = task_definitions.container_runs(stack, [DETECTION, UI])

    assert runs["detection"].environment == {"PATH_PREFIX": "/yoloapi"}
    assert runs["detection"].read_only is False and runs["detection"].user is None
    page = runs["ui"]
    assert (page.secret_names, page.user, page.read_only, page.writable_paths, page.health_command) == (
        ("COOKIE",), "10001", True, ("/tmp",), ("CMD", "true"),
    )  # fmt: skip


def test_load_balancer_urls_point_at_the_local_apis():
    environment = {
        "DETECTION_API_URL": f"{LB}/yoloapi",
        "DEPTH_API_URL": f"{LB}/depthapi",
        "LOG_LEVEL": "INFO",
    }

    bases = {"detection": "http://10.88.0.2:5001", "depth": "http://10.88.0.3:5050"}

    local = task_definitions.localize(environment, SERVICES, bases)

    assert local == {
        "DETECTION_API_URL": f"http://10.88.0.2:5001{DETECTION.path_prefix}",
        "DEPTH_API_URL": f"http://10.88.0.3:5050{DEPTH.path_prefix}",
        "LOG_LEVEL": "INFO",
    }
    with pytest.raises(ValueError, match="no local equivalent"):
        task_definitions.localize({"X": "${aws_s3_bucket.b.arn}"}, SERVICES, bases)
    # Service Connect names (the private APIs) and the load balancer's origin (the APIs' CORS_ORIGINS)
    connect = {
        "DETECTION_API_URL": f"http://detection:{DETECTION.port}{DETECTION.path_prefix}",
        "CORS_ORIGINS": LB,
    }
    assert task_definitions.localize(connect, SERVICES, {**bases, "ui": "http://10.88.0.4:80"}) == {
        "DETECTION_API_URL": f"http://10.88.0.2:5001{DETECTION.path_prefix}",
        "CORS_ORIGINS": "http://10.88.0.4:80",
    }
    with pytest.raises(ValueError, match="no local equivalent"):  # the depth API is not started yet
        task_definitions.localize(environment, SERVICES, {"detection": bases["detection"]})


def test_ecs_health_commands_become_argv():
    assert task_definitions.exec_form(["CMD", "python", "-c", "x"]) == ["python", "-c", "x"]
    assert task_definitions.exec_form(["CMD-SHELL", "curl -f x || exit 1"]) == [
        "sh",
        "-c",
        "curl -f x || exit 1",
    ]


def _built(service: str, mb: float) -> image_smoke.BuiltImage:
    spec = next(s for s in IMAGES if s.service == service)
    return image_smoke.BuiltImage(spec, f"localhost/{service}:smoke", 12.0, int(mb * 1e6))


def test_an_image_grown_by_more_than_15_percent_is_called_out():
    recorded = {"detection": 600.0, "depth": 700.0}

    lines, grown = image_smoke.size_report(
        [_built("detection", 695), _built("depth", 800), _built("ui", 900)], recorded
    )

    assert lines[0].split() == [
        "detection",
        "12",
        "s",
        "695",
        "MB",
        "(+16",
        "%",
        "vs",
        "600",
        "MB",
        "recorded)",
    ]
    assert "none recorded" in lines[2]
    assert grown == ["detection image grew 16% to 695 MB (recorded 600 MB in docs/containers.md; limit +15%)"]


def test_the_docs_record_a_size_for_every_image():
    assert set(image_smoke.recorded_sizes()) == {spec.service for spec in IMAGES}


def test_the_test_models_are_named_as_the_image_expects():
    assert arg_default(image_smoke.API_DOCKERFILE, "DETECTION_WEIGHTS") == "yolo11n.pt"
    assert arg_default(image_smoke.API_DOCKERFILE, "DEPTH_MODEL").endswith("/Depth-Anything-V2-Small-hf")
    with pytest.raises(ValueError, match="declares no ARG NOPE"):
        arg_default(ROOT / "docker/ui.Dockerfile", "NOPE")


def test_podman_builds_get_this_machines_options_and_the_export_context(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda command, **kw: calls.append(command))
    engine = image_smoke.for_this_machine(ContainerEngine("podman", "/usr/bin/podman"))

    engine.build(
        ROOT / "docker/api.Dockerfile",
        ["t:1"],
        context=ROOT,
        build_args={"SERVICE": "depth"},
        build_contexts={"export": tmp_path},
    )

    (command,) = calls
    assert command[:4] == ["/usr/bin/podman", "build", "--file", str(ROOT / "docker/api.Dockerfile")]
    assert command[4:10] == list(image_smoke.PODMAN_OPTIONS)
    assert command[10:] == [
        "--format", "docker", "--tag", "t:1", "--build-arg", "SERVICE=depth",
        "--build-context", f"export={tmp_path}", str(ROOT),
    ]  # fmt: skip
    assert image_smoke.for_this_machine(ContainerEngine("docker", "/usr/bin/docker")).build_options == ()
