"""AWS WAF on the load balancer: a per-IP rate limit and AWS managed rule groups, with logs.

Uploads of up to 16 MB must pass: the common rule set's ``SizeRestrictions_BODY`` blocks bodies over
8 KB, so that one rule only counts. WAF inspects the first 8 KB of a body on a load balancer and lets
the rest through (``oversize_handling`` of the managed rules is CONTINUE); the APIs check sizes
themselves (413 above ``MAX_UPLOAD_MB``).
"""

from __future__ import annotations

from typing import Any

from cdktf_app.cdk import (
    Construct,
    cloudwatch_log_group,
    wafv2_web_acl,
    wafv2_web_acl_association,
    wafv2_web_acl_logging_configuration,
)

# AWS managed rule groups, in evaluation order, with the rules switched to "count" and why.
MANAGED_RULE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("AWSManagedRulesCommonRuleSet", ("SizeRestrictions_BODY",)),  # image uploads are up to 16 MB
    ("AWSManagedRulesKnownBadInputsRuleSet", ()),  # Log4j and other exploit patterns
    # Tor exits and anonymising proxies are blocked; API clients on cloud servers are only counted.
    ("AWSManagedRulesAnonymousIpList", ("HostingProviderIPList",)),
)


def _visibility(metric_name: str) -> dict[str, Any]:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric_name, "sampled_requests_enabled": True}


def rules(name: str, rate_limit: int) -> list[dict[str, Any]]:
    """The web ACL's rules: the rate limit first, then each managed group."""
    result: list[dict[str, Any]] = [
        {
            "name": "rate-limit-per-ip",
            "priority": 0,
            "action": {"block": {}},
            "statement": {"rate_based_statement": {"limit": rate_limit, "aggregate_key_type": "IP"}},
            "visibility_config": _visibility(f"{name}-rate-limit"),
        }
    ]
    for priority, (group, counted) in enumerate(MANAGED_RULE_GROUPS, start=1):
        statement: dict[str, Any] = {"name": group, "vendor_name": "AWS"}
        if counted:
            statement["rule_action_override"] = [
                {"name": rule, "action_to_use": {"count": {}}} for rule in counted
            ]
        result.append(
            {
                "name": group,
                "priority": priority,
                "override_action": {"none": {}},
                "statement": {"managed_rule_group_statement": statement},
                "visibility_config": _visibility(f"{name}-{group}"),
            }
        )
    return result


class WebAcl(Construct):
    """A regional web ACL attached to the load balancer. Attributes: ``acl``, ``log_group``."""

    def __init__(
        self, scope: Construct, id_: str, *, name: str, alb_arn: str, rate_limit: int, log_retention_days: int
    ) -> None:
        super().__init__(scope, id_)
        self.acl = wafv2_web_acl.Wafv2WebAcl(
            self,
            "acl",
            name=name,
            description="Rate limit per client IP and AWS managed rules in front of the load balancer",
            scope="REGIONAL",
            default_action={"allow": {}},
            visibility_config=_visibility(name),
        )
        # Blocks inside lists are written as Terraform JSON: the bindings' dict conversion empties them.
        self.acl.add_override("rule", rules(name, rate_limit))
        wafv2_web_acl_association.Wafv2WebAclAssociation(
            self, "association", resource_arn=alb_arn, web_acl_arn=self.acl.arn
        )
        # WAF writes only to log groups whose name starts with aws-waf-logs-.
        self.log_group = cloudwatch_log_group.CloudwatchLogGroup(
            self, "logs", name=f"aws-waf-logs-{name}", retention_in_days=log_retention_days
        )
        wafv2_web_acl_logging_configuration.Wafv2WebAclLoggingConfiguration(
            self, "logging", resource_arn=self.acl.arn, log_destination_configs=[self.log_group.arn]
        )
