"""Task definitions, ECS services and service auto scaling: one construct, three services."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cdktf_app.cdk import Testing
from cdktf_app.config import PROXY_CPU_UNITS, PROXY_MEMORY_MIB
from cdktf_app.constructs.service import ServiceWiring, container_definition, health_check_command
from cdktf_app.settings_checks import MIN_CONTAINER_MEMORY_MIB
from cdktf_app.settings_file import settings_from_dict
from delivery.routes import DEPTH, DETECTION, SERVICES, UI, ServiceRoute
from tests.cdktf_app.helpers import Synthesized, raw_settings
from tests.support.servers import REPO_ROOT

Testing.__test__ = False

BY_ID = {"ids": lambda route: route.name}


def _container(stack: Synthesized, route: ServiceRoute) -> dict:
    return stack.containers()[stack.settings.services[route.name].container_name]


def _env(container: dict) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container["environment"]}


@pytest.mark.parametrize("route", SERVICES, **BY_ID)
def test_bridge_task_with_a_dynamic_host_port_on_the_routes_port(
    stack: Synthesized, route: ServiceRoute
) -> None:
    service = stack.settings.services[route.name]
    task = stack.one("aws_ecs_task_definition", family=service.task_family)
    assert task["network_mode"] == "bridge"
    assert task["requires_compatibilities"] == ["EC2"]
    assert task["execution_role_arn"] != task["task_role_arn"]
    container = _container(stack, route)
    assert container["portMappings"] == [
        {
            "name": route.name,
            "containerPort": route.port,
            "hostPort": 0,
            "protocol": "tcp",
            "appProtocol": "http",
        }
    ]
    assert container["memory"] >= MIN_CONTAINER_MEMORY_MIB[route.name]
    assert container["memory"] + PROXY_MEMORY_MIB <= int(task["memory"]), "room for the Service Connect proxy"
    assert container["cpu"] + PROXY_CPU_UNITS <= int(task["cpu"])
    assert container["image"].endswith(":0123456789ab"), "the tag synth resolved, never a moving one"
    assert container["image"].startswith("${aws_ecr_repository.")
    assert stack.resolve(container["image"].rsplit(":", 1)[0])["name"] == service.image_name


@pytest.mark.parametrize("route", SERVICES, **BY_ID)
def test_container_health_check_is_the_images_own(stack: Synthesized, route: ServiceRoute) -> None:
    """The same command as the image's HEALTHCHECK (docker/serve.py reads the routes table)."""
    check = _container(stack, route)["healthCheck"]
    assert (
        check["command"] == health_check_command(route) == ["CMD", "python", "/usr/local/bin/serve", "health"]
    )
    dockerfile = (
        REPO_ROOT / "docker" / ("ui.Dockerfile" if route.is_default_route else "api.Dockerfile")
    ).read_text()
    assert 'CMD ["python", "/usr/local/bin/serve", "health"]' in dockerfile
    assert check["startPeriod"] >= 180, "model loading takes minutes on a cold instance"


def test_the_health_command_fails_on_a_refused_connection_and_on_a_wrong_body() -> None:
    """``serve health URL [BODY]``: runnable Python that exits non-zero when unhealthy (loopback only)."""
    serve = [sys.executable, str(REPO_ROOT / "docker" / "serve.py"), "health"]
    refused = subprocess.run([*serve, "http://127.0.0.1:9/x/health"], capture_output=True, timeout=30)
    assert refused.returncode == 1 and b"unhealthy" in refused.stdout

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):  # Streamlit's way: 200 and its page on any path
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html>page</html>")

        def log_message(self, *args):
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Page) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/_stcore/health"
        wrong_body = subprocess.run([*serve, url, "ok"], capture_output=True, timeout=30)
        any_body = subprocess.run([*serve, url], capture_output=True, timeout=30)
        server.shutdown()
    assert wrong_body.returncode == 1 and b"expected 'ok'" in wrong_body.stdout
    assert any_body.returncode == 0


@pytest.mark.parametrize("route", SERVICES, **BY_ID)
def test_logs_go_to_the_services_log_group(stack: Synthesized, route: ServiceRoute) -> None:
    logging = _container(stack, route)["logConfiguration"]
    assert logging["logDriver"] == "awslogs"
    group = stack.resolve(logging["options"]["awslogs-group"])
    assert group["name"] == f"/ecs/objdepth-cluster/{route.name}"
    assert group["retention_in_days"] == stack.settings.log_retention_days
    assert logging["options"]["awslogs-region"] == "us-east-1"


@pytest.mark.parametrize("route", [DETECTION, DEPTH], **BY_ID)
def test_api_environment_carries_prefix_sizing_and_cors_origins(
    stack: Synthesized, route: ServiceRoute
) -> None:
    service = stack.settings.services[route.name]
    env = _env(_container(stack, route))
    assert env == {
        "PATH_PREFIX": route.path_prefix,
        "LOG_LEVEL": service.log_level,
        "GUNICORN_WORKERS": str(service.gunicorn_workers),
        "GUNICORN_THREADS": str(service.gunicorn_threads),
        "DEVICE": "cpu",
        "CORS_ORIGINS": env["CORS_ORIGINS"],
        "METRICS_EMF_INTERVAL_S": str(stack.settings.metrics_publish_interval),
        "METRICS_EMF_NAMESPACE": stack.settings.metrics_namespace,
    }
    assert env["CORS_ORIGINS"].startswith("http://${aws_lb.") and "*" not in env["CORS_ORIGINS"]
    assert _container(stack, route)["secrets"] == [], "private APIs check no key"


@pytest.mark.parametrize("route", [DETECTION, DEPTH], **BY_ID)
def test_public_apis_read_their_keys_from_ssm_and_allow_the_configured_origins(
    full_stack: Synthesized, route: ServiceRoute
) -> None:
    container = _container(full_stack, route)
    assert _env(container)["CORS_ORIGINS"] == "https://app.example.com"
    (keys,) = container["secrets"]
    assert keys["name"] == "API_KEYS" and keys["valueFrom"].endswith(":parameter/objdepth/api-keys")
    assert "API_KEYS" not in _env(container)
    assert "api-keys" not in json.dumps(full_stack.doc.get("data", {})), "the value is never read into state"


def test_the_page_gets_the_api_keys_only_when_the_apis_check_them(
    stack: Synthesized, full_stack: Synthesized
) -> None:
    assert "API_KEYS" not in {s["name"] for s in _container(stack, UI)["secrets"]}
    secrets = {s["name"]: s["valueFrom"] for s in _container(full_stack, UI)["secrets"]}
    assert secrets["API_KEYS"].endswith(":parameter/objdepth/api-keys")
    ui_execution = full_stack.one("aws_iam_role", name="objdepth-cluster-ui-execution")
    (reads,) = [
        st
        for p in full_stack.resources("aws_iam_role_policy")
        if full_stack.resolve(p["role"]) is ui_execution
        for st in json.loads(p["policy"])["Statement"]
        if st["Action"] == ["ssm:GetParameters"]
    ]
    assert secrets["API_KEYS"] in reads["Resource"]


def test_ui_calls_the_apis_inside_the_vpc_through_service_connect(any_stack: Synthesized) -> None:
    env = _env(_container(any_stack, UI))
    assert env["DETECTION_API_URL"] == "http://detection:5001/yoloapi"
    assert env["DEPTH_API_URL"] == "http://depth:5050/depthapi"
    services = {s["name"]: s for s in any_stack.resources("aws_ecs_service")}
    for route in (DETECTION, DEPTH):
        connect = services[any_stack.settings.services[route.name].service_name][
            "service_connect_configuration"
        ]
        assert connect["enabled"] is True
        assert connect["service"] == [
            {
                "port_name": route.name,
                "discovery_name": route.name,
                "client_alias": {"port": route.port, "dns_name": route.name},
            }
        ]
        assert any_stack.resolve(connect["namespace"])["name"] == "objdepth"
    ui = services["webapp-service"]["service_connect_configuration"]
    assert ui["enabled"] is True and "service" not in ui, "the page only calls"
    depends = " ".join(services["webapp-service"]["depends_on"])
    assert depends.count("aws_ecs_service.") == 2, "the page starts after the APIs it calls"


def test_private_apis_are_not_behind_the_load_balancer(stack: Synthesized) -> None:
    for route in (DETECTION, DEPTH):
        service = stack.one("aws_ecs_service", name=stack.settings.services[route.name].service_name)
        assert "load_balancer" not in service and "health_check_grace_period_seconds" not in service


def test_ui_cookie_secret_comes_from_ssm_never_from_the_environment(any_stack: Synthesized) -> None:
    container = _container(any_stack, UI)
    (secret,) = [s for s in container["secrets"] if s["name"] == "STREAMLIT_SERVER_COOKIE_SECRET"]
    assert secret["name"] == "STREAMLIT_SERVER_COOKIE_SECRET"
    assert secret["valueFrom"].endswith(":parameter/objdepth/streamlit-cookie-secret")
    assert secret["valueFrom"].startswith(
        f"arn:aws:ssm:{any_stack.settings.aws_region}:${{data.aws_caller_identity."
    )
    assert "STREAMLIT_SERVER_COOKIE_SECRET" not in _env(container)
    ui_execution = any_stack.one("aws_iam_role", name="objdepth-cluster-ui-execution")
    statements = [
        s
        for p in any_stack.resources("aws_iam_role_policy")
        if p["role"] == ui_execution["name"] or any_stack.resolve(p["role"]) is ui_execution
        for s in json.loads(p["policy"])["Statement"]
    ]
    (reads,) = [s for s in statements if s["Action"] == ["ssm:GetParameters"]]
    assert secret["valueFrom"] in reads["Resource"]


def test_only_the_ui_may_read_the_cookie_secret(any_stack: Synthesized) -> None:
    readers = [p for p in any_stack.policies() if "streamlit-cookie-secret" in json.dumps(p)]
    assert len(readers) == 1


@pytest.mark.parametrize("route", SERVICES, **BY_ID)
def test_read_only_root_with_a_writable_scratch_volume(stack: Synthesized, route: ServiceRoute) -> None:
    container = _container(stack, route)
    assert container["readonlyRootFilesystem"] is True
    assert container["privileged"] is False
    assert container["mountPoints"] == [
        {"sourceVolume": "scratch", "containerPath": "/tmp", "readOnly": False}
    ]


@pytest.mark.parametrize("route", SERVICES, **BY_ID)
def test_service_wiring(full_stack: Synthesized, route: ServiceRoute) -> None:
    stack = full_stack
    settings = stack.settings.services[route.name]
    service = stack.one("aws_ecs_service", name=settings.service_name)
    assert service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
    assert service["health_check_grace_period_seconds"] >= 180
    (strategy,) = service["capacity_provider_strategy"]
    assert stack.resolve(strategy["capacity_provider"])["name"] == "objdepth-cluster-ec2"
    assert "launch_type" not in service
    (balancer,) = service["load_balancer"]
    assert balancer["container_name"] == settings.container_name
    assert balancer["container_port"] == route.port
    assert stack.resolve(balancer["target_group_arn"])["health_check"]["path"] == route.health_path
    assert {"type": "spread", "field": "attribute:ecs.availability-zone"} in service[
        "ordered_placement_strategy"
    ]
    assert stack.resolve(service["task_definition"])["family"] == settings.task_family
    assert "desired_count" in service["lifecycle"]["ignore_changes"]
    depends = " ".join(service["depends_on"])
    assert "aws_lb_listener." in depends and "aws_ecs_cluster_capacity_providers." in depends


@pytest.mark.parametrize("route", SERVICES, **BY_ID)
def test_service_scales_on_cpu_and_on_requests_per_target(
    full_stack: Synthesized, route: ServiceRoute
) -> None:
    stack = full_stack
    settings = stack.settings.services[route.name]
    service = stack.one("aws_ecs_service", name=settings.service_name)
    (target,) = [
        t
        for t in stack.resources("aws_appautoscaling_target")
        if stack.resolve(t["resource_id"].rsplit("/", 1)[1]) is service
    ]
    assert target["resource_id"].startswith("service/${aws_ecs_cluster.")
    assert (target["min_capacity"], target["max_capacity"]) == (settings.min_count, settings.max_count)
    assert target["scalable_dimension"] == "ecs:service:DesiredCount"
    configs = [
        p["target_tracking_scaling_policy_configuration"]
        for p in stack.resources("aws_appautoscaling_policy")
        if stack.resolve(p["resource_id"]) is target
    ]
    by_metric = {c["predefined_metric_specification"]["predefined_metric_type"]: c for c in configs}
    assert set(by_metric) == {"ECSServiceAverageCPUUtilization", "ALBRequestCountPerTarget"}
    assert by_metric["ECSServiceAverageCPUUtilization"]["target_value"] == settings.cpu_target_value
    requests = by_metric["ALBRequestCountPerTarget"]
    assert requests["target_value"] == settings.requests_per_target
    label = requests["predefined_metric_specification"]["resource_label"]
    alb_suffix, group_suffix = label.split("/")
    assert stack.resolve(alb_suffix)["name"] == "objdepth-alb"
    assert stack.resolve(group_suffix)["name"] == settings.target_group_name


def test_image_tag_override_reaches_every_container() -> None:
    settings = settings_from_dict(raw_settings(), environ={"IMAGE_TAG": "9c1d2e3"})
    wiring = ServiceWiring(
        cluster_arn="c",
        cluster_name="c",
        capacity_provider_name="p",
        repository_url="123456789012.dkr.ecr.us-east-1.amazonaws.com/repo",
        repository_arn="r",
    )
    images = {container_definition(r, settings, wiring, "g")["image"] for r in SERVICES}
    assert images == {"123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:9c1d2e3"}
