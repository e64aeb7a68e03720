"""The Application Load Balancer: listeners, target groups and path rules from the routes table.

The public listener serves the web page. The API prefixes are routed only with ``public_apis``, and even
then never their operational paths (``OPS_PATHS``: metrics, API docs, OpenAPI description), which are
answered 404 by the load balancer itself.
"""

from __future__ import annotations

import json

from cdktf_app.cdk import (
    Construct,
    lb,
    lb_listener,
    lb_listener_rule,
    lb_target_group,
    route53_record,
    security_group,
)
from cdktf_app.config import Settings
from cdktf_app.constructs.access_logs import AccessLogBucket
from cdktf_app.constructs.network import Network
from cdktf_app.constructs.security import ANYWHERE, allow_tcp
from cdktf_app.constructs.sign_in import SIGNED_OUT_PATH
from delivery.routes import SERVICES, ServiceRoute

# Listener rule priorities: the API prefixes in the order of the routes table, 10 apart; the rule closing
# an API's operational paths comes just before its forwarding rule.
RULE_PRIORITY_STEP = 10
# Paths under an API prefix the internet never reaches (operators read them inside the VPC).
OPS_PATHS = ("/metrics", "/docs", "/docs/*", "/openapi.json")
NOT_ROUTED = json.dumps({"success": False, "error": "not found", "code": "not_found"})
# With sign-in: the rules that bypass it (the page's health path, the signed-out page, sign-out) come
# first; the authenticating rule (sign_in_template.py) comes last.
HEALTH_RULE_PRIORITY = 1
SIGNED_OUT_RULE_PRIORITY = 2
SIGN_OUT_RULE_PRIORITY = 3
# With sign-in the listener's default action is only reached if the authenticating rule is missing (its
# CloudFormation stack not yet made, or failed): then nobody gets in.
SIGN_IN_NOT_READY = "Sign-in is not set up yet. Try again in a few minutes."
SIGNED_OUT_PAGE = (
    "<!doctype html><title>Signed out</title><p>You are signed out of the identity provider. "
    '<a href="/">Sign in again</a>.</p>'
)


def routed_services(settings: Settings) -> list[ServiceRoute]:
    """The services the public listener forwards to: the web page, and the APIs with ``public_apis``."""
    return [route for route in SERVICES if route.is_default_route or settings.public_apis]


class LoadBalancer(Construct):
    """Internet-facing ALB in the public subnets.

    Without a certificate it serves HTTP only. With ``certificate_arn`` it serves HTTPS and the HTTP
    listener answers every request with a permanent redirect to HTTPS. The default action of the
    serving listener forwards to the UI; with ``public_apis`` each API prefix forwards to its API.
    With ``settings.sign_in_enabled`` the page is reached only through the authenticating rule that
    ``SignIn`` adds last; the HTTPS listener's default action answers 503 without it (fails closed). The
    page's health path and the signed-out page are answered without signing in (the API prefixes keep
    their API keys), and so is ``/signout`` (``SignOut``, at ``SIGN_OUT_RULE_PRIORITY``).

    Attributes: ``alb``; ``security_group``; ``target_groups`` (service name -> target group, for the
    routed services only); ``access_logs`` (the bucket the stack made, or ``None``);
    ``listener`` (the one carrying the rules); ``rules`` (listener rules, for ``depends_on``);
    ``page_target_group`` (the web page's);
    ``base_url`` (how browsers, API clients and the UI's server reach the platform).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: Settings,
        network: Network,
        account_id: str,
    ) -> None:
        super().__init__(scope, id_)
        self._settings = settings
        self.security_group = self._security_group(network)
        self.access_logs = None
        logs_bucket, depends_on = settings.alb_access_logs_bucket, []
        if settings.access_logs_enabled and not logs_bucket:
            self.access_logs = AccessLogBucket(
                self,
                "access-logs",
                name_prefix=f"{settings.cluster_name}-alb-logs-",
                account_id=account_id,
                retention_days=max(settings.log_retention_days, 30),
            )
            logs_bucket, depends_on = self.access_logs.bucket.id, [self.access_logs.policy]
        self.alb = lb.Lb(
            self,
            "alb",
            name=settings.alb_name,
            load_balancer_type="application",
            internal=False,
            security_groups=[self.security_group.id],
            subnets=network.public_subnet_ids,
            idle_timeout=settings.alb_idle_timeout,
            drop_invalid_header_fields=True,
            enable_deletion_protection=settings.alb_deletion_protection,
            access_logs=(
                {
                    "bucket": logs_bucket,
                    "prefix": self.access_logs.prefix if self.access_logs else settings.cluster_name,
                    "enabled": True,
                }
                if logs_bucket
                else None
            ),
            depends_on=depends_on or None,
        )
        routed = routed_services(settings)
        self.target_groups = {route.name: self._target_group(route, network) for route in routed}
        self.page_target_group = self._default_target_group()
        self.listener = self._listeners()
        self.rules = self._sign_in_bypass() if settings.sign_in_enabled else []
        for index, route in enumerate(r for r in routed if not r.is_default_route):
            priority = RULE_PRIORITY_STEP * (index + 1)
            self.rules += [self._closed_rule(route, priority - 1), self._rule(route, priority)]
        self.base_url = self._base_url()
        if settings.hosted_zone_id:
            route53_record.Route53Record(
                self,
                "alias",
                zone_id=settings.hosted_zone_id,
                name=settings.domain_name,
                type="A",
                alias={
                    "name": self.alb.dns_name,
                    "zone_id": self.alb.zone_id,
                    "evaluate_target_health": True,
                },
            )

    def _security_group(self, network: Network) -> security_group.SecurityGroup:
        settings = self._settings
        group = security_group.SecurityGroup(
            self,
            "sg",
            name=f"{settings.cluster_name}-alb",
            description="Load balancer: HTTP(S) from the internet",
            vpc_id=network.vpc.id,
        )
        ports = [settings.http_listener_port] + (
            [settings.https_listener_port] if settings.https_enabled else []
        )
        for port in ports:
            allow_tcp(
                self,
                f"ingress-{port}",
                security_group_id=group.id,
                ports=port,
                description=f"Public web traffic on port {port}",
                cidr=ANYWHERE,
            )
        if settings.sign_in_enabled:
            # The load balancer itself calls the identity provider's token and user info endpoints
            # (AWS: "allow outbound connections to the IdP"); they are names, not fixed addresses.
            allow_tcp(
                self,
                "egress-identity-provider",
                security_group_id=group.id,
                ports=443,
                description="Sign-in: HTTPS to the identity provider's endpoints",
                cidr=ANYWHERE,
                outbound=True,
            )
        return group

    def _target_group(self, route: ServiceRoute, network: Network) -> lb_target_group.LbTargetGroup:
        settings = self._settings
        service = settings.services[route.name]
        stickiness = (
            {"type": "lb_cookie", "enabled": True, "cookie_duration": settings.ui_stickiness_duration}
            if route.is_default_route  # Streamlit keeps each session's state in one replica
            else {"type": "lb_cookie", "enabled": False}
        )
        return lb_target_group.LbTargetGroup(
            self,
            f"tg-{route.name}",
            name=service.target_group_name,
            # ECS registers each task on its dynamic host port; this port is only the default.
            port=route.port,
            protocol="HTTP",
            target_type="instance",
            vpc_id=network.vpc.id,
            deregistration_delay=str(settings.deregistration_delay),
            stickiness=stickiness,
            health_check={
                "enabled": True,
                "path": route.health_path,
                "port": "traffic-port",
                "protocol": "HTTP",
                "matcher": settings.health_check_matcher,
                "interval": settings.health_check_interval,
                "timeout": settings.health_check_timeout,
                "healthy_threshold": settings.health_check_healthy_threshold,
                "unhealthy_threshold": settings.health_check_unhealthy_threshold,
            },
        )

    def _listeners(self) -> lb_listener.LbListener:
        settings = self._settings
        forward_to_ui = [
            lb_listener.LbListenerDefaultAction(
                type="forward", target_group_arn=self._default_target_group().arn
            )
        ]
        sign_in_not_ready = [
            lb_listener.LbListenerDefaultAction(
                type="fixed-response",
                fixed_response=lb_listener.LbListenerDefaultActionFixedResponse(
                    content_type="text/plain", message_body=SIGN_IN_NOT_READY, status_code="503"
                ),
            )
        ]
        redirect_to_https = [
            lb_listener.LbListenerDefaultAction(
                type="redirect",
                redirect=lb_listener.LbListenerDefaultActionRedirect(
                    protocol="HTTPS", port=str(settings.https_listener_port), status_code="HTTP_301"
                ),
            )
        ]
        http = lb_listener.LbListener(
            self,
            "http",
            load_balancer_arn=self.alb.arn,
            port=settings.http_listener_port,
            protocol="HTTP",
            default_action=redirect_to_https if settings.https_enabled else forward_to_ui,
        )
        if not settings.https_enabled:
            return http
        return lb_listener.LbListener(
            self,
            "https",
            load_balancer_arn=self.alb.arn,
            port=settings.https_listener_port,
            protocol="HTTPS",
            certificate_arn=settings.certificate_arn,
            ssl_policy=settings.ssl_policy,
            default_action=sign_in_not_ready if settings.sign_in_enabled else forward_to_ui,
        )

    def _default_target_group(self) -> lb_target_group.LbTargetGroup:
        (default,) = (r for r in SERVICES if r.is_default_route)
        return self.target_groups[default.name]

    def _sign_in_bypass(self) -> list[lb_listener_rule.LbListenerRule]:
        """The page's health path (its body is ``ok``, nothing else) and the signed-out page, unsigned."""
        (page,) = (r for r in SERVICES if r.is_default_route)
        forward = lb_listener_rule.LbListenerRuleAction(
            type="forward", target_group_arn=self.target_groups[page.name].arn
        )
        signed_out = lb_listener_rule.LbListenerRuleAction(
            type="fixed-response",
            fixed_response=lb_listener_rule.LbListenerRuleActionFixedResponse(
                content_type="text/html", message_body=SIGNED_OUT_PAGE, status_code="200"
            ),
        )
        return [
            self._path_rule("health-ui", HEALTH_RULE_PRIORITY, [page.health_path], forward),
            self._path_rule("signed-out", SIGNED_OUT_RULE_PRIORITY, [SIGNED_OUT_PATH], signed_out),
        ]

    def _rule(self, route: ServiceRoute, priority: int) -> lb_listener_rule.LbListenerRule:
        """Forward the prefix, bare too (so /yoloapi reaches the API and its 404, not the UI)."""
        forward = lb_listener_rule.LbListenerRuleAction(
            type="forward", target_group_arn=self.target_groups[route.name].arn
        )
        return self._path_rule(
            f"rule-{route.name}", priority, [route.path_prefix, route.path_pattern], forward
        )

    def _closed_rule(self, route: ServiceRoute, priority: int) -> lb_listener_rule.LbListenerRule:
        """Answer the API's operational paths with a 404 before its forwarding rule sees them."""
        not_found = lb_listener_rule.LbListenerRuleAction(
            type="fixed-response",
            fixed_response=lb_listener_rule.LbListenerRuleActionFixedResponse(
                content_type="application/json", message_body=NOT_ROUTED, status_code="404"
            ),
        )
        paths = [f"{route.path_prefix}{path}" for path in OPS_PATHS]
        return self._path_rule(f"closed-{route.name}", priority, paths, not_found)

    def _path_rule(
        self, id_: str, priority: int, paths: list[str], action: lb_listener_rule.LbListenerRuleAction
    ) -> lb_listener_rule.LbListenerRule:
        return lb_listener_rule.LbListenerRule(
            self,
            id_,
            listener_arn=self.listener.arn,
            priority=priority,
            condition=[
                lb_listener_rule.LbListenerRuleCondition(
                    path_pattern=lb_listener_rule.LbListenerRuleConditionPathPattern(values=paths)
                )
            ],
            action=[action],
        )

    def _base_url(self) -> str:
        settings = self._settings
        if settings.https_enabled:
            port = "" if settings.https_listener_port == 443 else f":{settings.https_listener_port}"
            return f"https://{settings.domain_name}{port}"
        port = "" if settings.http_listener_port == 80 else f":{settings.http_listener_port}"
        return f"http://{self.alb.dns_name}{port}"
