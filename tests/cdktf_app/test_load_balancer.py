"""Load balancer, listeners, path rules and target groups, all derived from ``delivery/routes.py``."""

from __future__ import annotations

import json

import pytest

from cdktf_app.cdk import Testing
from cdktf_app.settings_file import settings_from_dict
from delivery.routes import SERVICES, ServiceRoute
from tests.cdktf_app.helpers import DEPLOYED, Synthesized, raw_settings

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


def test_access_logs_go_to_a_private_versioned_bucket_in_production(
    stack: Synthesized, full_stack: Synthesized
) -> None:
    assert "access_logs" not in stack.resources("aws_lb")[0]
    assert stack.resources("aws_s3_bucket") == []
    alb = full_stack.resources("aws_lb")[0]
    logs = alb["access_logs"]
    bucket = full_stack.resolve(logs["bucket"])
    assert bucket["bucket_prefix"] == "objdepth-cluster-alb-logs-"
    assert (logs["enabled"], logs["prefix"]) == (True, "alb")
    assert any(d.startswith("aws_s3_bucket_policy.") for d in alb["depends_on"]), "policy before the ALB"
    (block,) = full_stack.resources("aws_s3_bucket_public_access_block")
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls"))
    (versioning,) = full_stack.resources("aws_s3_bucket_versioning")
    assert versioning["versioning_configuration"] == {"status": "Enabled"}
    (encryption,) = full_stack.resources("aws_s3_bucket_server_side_encryption_configuration")
    assert encryption["rule"] == [{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}]
    (policy,) = full_stack.resources("aws_s3_bucket_policy")
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    assert statements["TlsOnly"]["Effect"] == "Deny"
    assert statements["LoadBalancerWritesLogs"]["Resource"].endswith(
        "/alb/AWSLogs/${data.aws_caller_identity.identity.account_id}/*"
    )
    assert alb["enable_deletion_protection"] is True


def test_an_existing_access_log_bucket_is_used_as_is() -> None:
    settings = settings_from_dict({**raw_settings(), "alb_access_logs_bucket": "my-logs"}, environ=DEPLOYED)
    assert settings.access_logs_enabled and not settings.alb_access_logs


@pytest.mark.parametrize("route", SERVICES, ids=lambda r: r.name)
def test_target_group_health_check_follows_the_routes_table(
    full_stack: Synthesized, route: ServiceRoute
) -> None:
    any_stack = full_stack
    group = _target_group(any_stack, route)
    assert group["protocol"] == "HTTP"
    assert group["target_type"] == "instance"
    assert group["port"] == route.port
    assert group["health_check"]["path"] == route.health_path
    assert group["health_check"]["port"] == "traffic-port"
    assert group["health_check"]["matcher"] == "200"
    assert group["deregistration_delay"] == "30"


def test_only_the_ui_target_group_is_sticky(full_stack: Synthesized) -> None:
    sticky = {route.name: _target_group(full_stack, route)["stickiness"]["enabled"] for route in SERVICES}
    assert sticky == {"detection": False, "depth": False, "ui": True}
    assert _target_group(full_stack, UI_ROUTE)["stickiness"]["type"] == "lb_cookie"


def test_by_default_the_load_balancer_serves_the_page_only(stack: Synthesized) -> None:
    assert [group["name"] for group in stack.resources("aws_lb_target_group")] == ["webapp-tg"]
    assert stack.resources("aws_lb_listener_rule") == []
    assert stack.resources("aws_wafv2_web_acl") == []


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
    # With sign-in (the production default) the page is reached only through the authenticating rule.
    (sign_in,) = full_stack.resources("aws_cloudformation_stack")
    assert full_stack.resolve(sign_in["parameters"]["PageTargetGroupArn"])["name"] == "webapp-tg"


@pytest.mark.parametrize("route", API_ROUTES, ids=lambda r: r.name)
def test_public_api_prefix_rule_forwards_to_its_target_group(
    full_stack: Synthesized, route: ServiceRoute
) -> None:
    any_stack = full_stack
    serving = "HTTPS"
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


def test_public_rules_cover_the_api_prefixes_but_never_their_operational_paths(
    full_stack: Synthesized,
) -> None:
    rules = full_stack.resources("aws_lb_listener_rule")
    prefixes = tuple(route.path_prefix for route in API_ROUTES)
    api_rules = [r for r in rules if r["condition"][0]["path_pattern"]["values"][0].startswith(prefixes)]
    forwards = [r for r in api_rules if r["action"][0]["type"] == "forward"]
    patterns = sorted(r["condition"][0]["path_pattern"]["values"][1] for r in forwards)
    assert patterns == sorted(route.path_pattern for route in API_ROUTES) == ["/depthapi/*", "/yoloapi/*"]
    assert len({r["priority"] for r in rules}) == len(rules)
    for route in API_ROUTES:
        forward = next(
            r for r in forwards if route.path_pattern in r["condition"][0]["path_pattern"]["values"]
        )
        (closed,) = [
            r
            for r in rules
            if r["action"][0]["type"] == "fixed-response"
            and f"{route.path_prefix}/metrics" in r["condition"][0]["path_pattern"]["values"]
        ]
        assert closed["priority"] < forward["priority"], "the closing rule is evaluated first"
        assert closed["condition"][0]["path_pattern"]["values"] == [
            f"{route.path_prefix}{path}" for path in ("/metrics", "/docs", "/docs/*", "/openapi.json")
        ]
        response = closed["action"][0]["fixed_response"]
        assert (
            response["status_code"] == "404" and json.loads(response["message_body"])["code"] == "not_found"
        )


def test_dns_alias_only_with_a_hosted_zone(stack: Synthesized, full_stack: Synthesized) -> None:
    assert stack.resources("aws_route53_record") == []
    (record,) = full_stack.resources("aws_route53_record")
    assert (record["name"], record["type"], record["zone_id"]) == (
        "objdepth.example.com",
        "A",
        "Z0123456789ABCDEFGHIJ",
    )
    assert record["alias"]["name"].endswith(".dns_name}")
