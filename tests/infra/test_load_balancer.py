"""Load balancer, listeners, path rules and target groups, all derived from ``apis/routes.py``."""

from __future__ import annotations

import pytest

from apis.routes import SERVICES, ServiceRoute
from cdktf_app.cdk import Testing
from tests.infra.helpers import Synthesized

Testing.__test__ = False

API_ROUTES = [route for route in SERVICES if not route.is_default_route]
(UI_ROUTE,) = [route for route in SERVICES if route.is_default_route]


def _target_group(stack: Synthesized, route: ServiceRoute) -> dict:
    return stack.one("aws_lb_target_group", name=stack.settings.services[route.name].target_group_name)


def test_internet_facing_alb_with_websocket_idle_timeout(any_stack: Synthesized) -> None:
    assert Testing.to_have_resource_with_properties(
        any_stack.text,
        "aws_lb",
        {"name": "objdepth-alb", "internal": False, "load_balancer_type": "application"},
    )
    alb = any_stack.resources("aws_lb")[0]
    assert alb["drop_invalid_header_fields"] is True
    assert alb["idle_timeout"] >= 300, "Streamlit's websocket must survive an idle minute"
    assert {any_stack.resolve(s)["tags"]["Tier"] for s in alb["subnets"]} == {"public"}


def test_access_logs_only_when_a_bucket_is_given(stack: Synthesized, full_stack: Synthesized) -> None:
    assert "access_logs" not in stack.resources("aws_lb")[0]
    logs = full_stack.resources("aws_lb")[0]["access_logs"]
    assert logs == {"bucket": "objdepth-alb-logs", "enabled": True, "prefix": "objdepth-cluster"}


@pytest.mark.parametrize("route", SERVICES, ids=lambda r: r.name)
def test_target_group_health_check_follows_the_routes_table(
    any_stack: Synthesized, route: ServiceRoute
) -> None:
    group = _target_group(any_stack, route)
    assert group["protocol"] == "HTTP"
    assert group["target_type"] == "instance"
    assert group["port"] == route.port
    assert group["health_check"]["path"] == route.health_path
    assert group["health_check"]["port"] == "traffic-port"
    assert group["health_check"]["matcher"] == "200"
    assert group["deregistration_delay"] == "30"


def test_only_the_ui_target_group_is_sticky(stack: Synthesized) -> None:
    sticky = {route.name: _target_group(stack, route)["stickiness"]["enabled"] for route in SERVICES}
    assert sticky == {"detection": False, "depth": False, "ui": True}
    assert _target_group(stack, UI_ROUTE)["stickiness"]["type"] == "lb_cookie"


def test_http_listener_forwards_to_the_ui_without_a_certificate(stack: Synthesized) -> None:
    (listener,) = stack.resources("aws_lb_listener")
    assert (listener["port"], listener["protocol"]) == (80, "HTTP")
    (action,) = listener["default_action"]
    assert action["type"] == "forward"
    assert stack.resolve(action["target_group_arn"])["health_check"]["path"] == UI_ROUTE.health_path


def test_with_a_certificate_http_redirects_and_https_serves(full_stack: Synthesized) -> None:
    http = full_stack.one("aws_lb_listener", protocol="HTTP")
    (redirect,) = http["default_action"]
    assert redirect["type"] == "redirect"
    assert redirect["redirect"] == {"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"}
    https = full_stack.one("aws_lb_listener", protocol="HTTPS")
    assert https["certificate_arn"] == full_stack.settings.certificate_arn
    assert https["ssl_policy"].startswith("ELBSecurityPolicy-TLS13")
    assert full_stack.resolve(https["default_action"][0]["target_group_arn"])["name"] == "webapp-tg"


@pytest.mark.parametrize("route", API_ROUTES, ids=lambda r: r.name)
def test_api_prefix_rule_forwards_to_its_target_group(any_stack: Synthesized, route: ServiceRoute) -> None:
    serving = "HTTPS" if any_stack.settings.https_enabled else "HTTP"
    (rule,) = [
        r
        for r in any_stack.resources("aws_lb_listener_rule")
        if route.path_pattern in r["condition"][0]["path_pattern"]["values"]
    ]
    assert rule["condition"][0]["path_pattern"]["values"] == [route.path_prefix, route.path_pattern]
    assert any_stack.resolve(rule["listener_arn"])["protocol"] == serving
    (action,) = rule["action"]
    assert action["type"] == "forward"
    assert any_stack.resolve(action["target_group_arn"]) == _target_group(any_stack, route)


def test_rules_cover_exactly_the_api_prefixes_with_distinct_priorities(stack: Synthesized) -> None:
    rules = stack.resources("aws_lb_listener_rule")
    patterns = sorted(r["condition"][0]["path_pattern"]["values"][1] for r in rules)
    assert patterns == sorted(route.path_pattern for route in API_ROUTES) == ["/depthapi/*", "/yoloapi/*"]
    assert len({r["priority"] for r in rules}) == len(rules)


def test_dns_alias_only_with_a_hosted_zone(stack: Synthesized, full_stack: Synthesized) -> None:
    assert stack.resources("aws_route53_record") == []
    (record,) = full_stack.resources("aws_route53_record")
    assert (record["name"], record["type"], record["zone_id"]) == (
        "objdepth.example.com",
        "A",
        "Z0123456789ABCDEFGHIJ",
    )
    assert record["alias"]["name"].endswith(".dns_name}")
