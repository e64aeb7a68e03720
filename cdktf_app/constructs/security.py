"""Security group rules: one helper, so every rule is TCP, described and scoped the same way."""

from __future__ import annotations

from cdktf_app.cdk import Construct, vpc_security_group_egress_rule, vpc_security_group_ingress_rule

ANYWHERE = "0.0.0.0/0"


def allow_tcp(
    scope: Construct,
    id_: str,
    *,
    security_group_id: str,
    ports: int | tuple[int, int],
    description: str,
    cidr: str | None = None,
    peer_group_id: str | None = None,
    outbound: bool = False,
) -> None:
    """Allow TCP on ``ports`` (one port or an inclusive range) to or from ``cidr`` or a peer group."""
    low, high = (ports, ports) if isinstance(ports, int) else ports
    rule = (
        vpc_security_group_egress_rule.VpcSecurityGroupEgressRule
        if outbound
        else (vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule)
    )
    rule(
        scope,
        id_,
        security_group_id=security_group_id,
        description=description,
        ip_protocol="tcp",
        from_port=low,
        to_port=high,
        cidr_ipv4=cidr,
        referenced_security_group_id=peer_group_id,
    )
