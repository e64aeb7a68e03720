"""Network and security groups of the synthesized stack."""

from __future__ import annotations

import ipaddress

from cdktf_app.cdk import Testing
from cdktf_app.constructs.cluster import DYNAMIC_PORTS
from tests.cdktf_app.helpers import Synthesized

Testing.__test__ = False


def _ingress(stack: Synthesized, group_name: str) -> list[dict]:
    return [
        rule
        for rule in stack.resources("aws_vpc_security_group_ingress_rule")
        if stack.resolve(rule["security_group_id"])["name"] == group_name
    ]


def test_vpc_and_two_public_subnets_in_different_zones(stack: Synthesized) -> None:
    assert Testing.to_have_resource_with_properties(
        stack.text, "aws_vpc", {"cidr_block": "10.0.0.0/16", "enable_dns_hostnames": True}
    )
    public = [s for s in stack.resources("aws_subnet") if s["tags"]["Tier"] == "public"]
    assert [s["cidr_block"] for s in public] == stack.settings.public_subnet_cidrs
    zones = [s["availability_zone"] for s in public]
    assert len(set(zones)) == 2
    assert all("data.aws_availability_zones" in zone for zone in zones), "zones are looked up, not typed"
    assert all(s["map_public_ip_on_launch"] is False for s in public)


def test_pinned_zones_are_used_as_given(full_stack: Synthesized) -> None:
    zones = {s["availability_zone"] for s in full_stack.resources("aws_subnet")}
    assert zones == {"eu-west-1a", "eu-west-1b"}
    assert "aws_availability_zones" not in full_stack.doc.get("data", {})


def test_public_subnets_route_to_the_internet_gateway(stack: Synthesized) -> None:
    (default_route,) = stack.resources("aws_route")
    assert default_route["destination_cidr_block"] == "0.0.0.0/0"
    assert default_route["gateway_id"].startswith("${aws_internet_gateway.")
    associated = {
        stack.resolve(a["subnet_id"])["cidr_block"] for a in stack.resources("aws_route_table_association")
    }
    assert associated == set(stack.settings.public_subnet_cidrs)


def test_no_nat_gateway_or_private_subnets_by_default(stack: Synthesized) -> None:
    assert stack.resources("aws_nat_gateway") == []
    assert all(s["tags"]["Tier"] == "public" for s in stack.resources("aws_subnet"))
    asg = stack.resources("aws_autoscaling_group")[0]
    assert {stack.resolve(s)["tags"]["Tier"] for s in asg["vpc_zone_identifier"]} == {"public"}
    (interface,) = stack.resources("aws_launch_template")[0]["network_interfaces"]
    assert interface["associate_public_ip_address"] == "true"


def test_private_subnets_put_instances_behind_a_nat_gateway(full_stack: Synthesized) -> None:
    (nat,) = full_stack.resources("aws_nat_gateway")
    assert full_stack.resolve(nat["subnet_id"])["tags"]["Tier"] == "public"
    private_route = next(r for r in full_stack.resources("aws_route") if "nat_gateway_id" in r)
    assert private_route["destination_cidr_block"] == "0.0.0.0/0"
    asg = full_stack.resources("aws_autoscaling_group")[0]
    subnets = [full_stack.resolve(s) for s in asg["vpc_zone_identifier"]]
    assert [s["cidr_block"] for s in subnets] == full_stack.settings.private_subnet_cidrs
    (interface,) = full_stack.resources("aws_launch_template")[0]["network_interfaces"]
    assert interface["associate_public_ip_address"] == "false"


def test_flow_logs_and_an_empty_default_security_group(stack: Synthesized) -> None:
    (flow,) = stack.resources("aws_flow_log")
    assert flow["traffic_type"] == "ALL"
    assert stack.resolve(flow["log_destination"])["retention_in_days"] == 14
    (default_group,) = stack.resources("aws_default_security_group")
    assert "ingress" not in default_group and "egress" not in default_group


def test_load_balancer_accepts_only_http_from_the_internet_by_default(stack: Synthesized) -> None:
    rules = _ingress(stack, "objdepth-cluster-alb")
    assert [(r["from_port"], r["to_port"], r["cidr_ipv4"]) for r in rules] == [(80, 80, "0.0.0.0/0")]


def test_load_balancer_accepts_https_too_with_a_certificate(full_stack: Synthesized) -> None:
    rules = _ingress(full_stack, "objdepth-cluster-alb")
    assert sorted(r["from_port"] for r in rules) == [80, 443]


def test_instances_accept_only_the_dynamic_ports_from_the_load_balancer_and_each_other(
    stack: Synthesized,
) -> None:
    rules = _ingress(stack, "objdepth-cluster-instances")
    peers = sorted(stack.resolve(rule["referenced_security_group_id"])["name"] for rule in rules)
    assert peers == ["objdepth-cluster-alb", "objdepth-cluster-instances"], (
        "the ALB, and Service Connect proxies"
    )
    for rule in rules:
        assert (rule["from_port"], rule["to_port"]) == DYNAMIC_PORTS == (32768, 65535)
        assert "cidr_ipv4" not in rule


def test_load_balancer_egress_goes_only_to_the_instances_and_with_sign_in_the_idp(
    any_stack: Synthesized,
) -> None:
    alb_egress = [
        r
        for r in any_stack.resources("aws_vpc_security_group_egress_rule")
        if any_stack.resolve(r["security_group_id"])["name"] == "objdepth-cluster-alb"
    ]
    to_groups = [r for r in alb_egress if "referenced_security_group_id" in r]
    assert len(to_groups) == 1
    assert (
        any_stack.resolve(to_groups[0]["referenced_security_group_id"])["name"]
        == "objdepth-cluster-instances"
    )
    # Sign-in: the load balancer calls the identity provider's token and user info endpoints itself.
    to_internet = [(r["cidr_ipv4"], r["from_port"], r["to_port"]) for r in alb_egress if r not in to_groups]
    assert to_internet == ([("0.0.0.0/0", 443, 443)] if any_stack.settings.sign_in_enabled else [])


def test_ssh_only_with_key_pair_and_allowed_range(stack: Synthesized, full_stack: Synthesized) -> None:
    assert not any(r["from_port"] == 22 for r in stack.resources("aws_vpc_security_group_ingress_rule"))
    assert "key_name" not in stack.resources("aws_launch_template")[0]
    (ssh,) = [r for r in full_stack.resources("aws_vpc_security_group_ingress_rule") if r["from_port"] == 22]
    assert ssh["cidr_ipv4"] == "203.0.113.0/24"
    assert full_stack.resources("aws_launch_template")[0]["key_name"] == "ops"


def test_only_the_load_balancer_is_open_to_the_internet(any_stack: Synthesized) -> None:
    for rule in any_stack.resources("aws_vpc_security_group_ingress_rule"):
        cidr = rule.get("cidr_ipv4")
        if cidr and ipaddress.IPv4Network(cidr).prefixlen == 0:
            assert any_stack.resolve(rule["security_group_id"])["name"] == "objdepth-cluster-alb"
    for rule in any_stack.resources("aws_vpc_security_group_ingress_rule") + any_stack.resources(
        "aws_vpc_security_group_egress_rule"
    ):
        assert rule.get("description"), "every rule says why it exists"
