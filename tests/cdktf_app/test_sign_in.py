"""Sign-in at the load balancer, per ``page_access`` mode: listener actions, the user pool, the secret.

``open`` is the demo stack, ``cognito`` the production stack (its default); ``oidc`` is synthesized here
once for the module, with a secret name but never a secret value in the settings.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cdktf_app.config import SettingsError
from cdktf_app.constructs.sign_in import CALLBACK_PATH, SIGNED_OUT_PATH
from cdktf_app.settings_file import settings_from_dict
from delivery.routes import SERVICES
from tests.cdktf_app.helpers import DEPLOYED, FULL_OPTIONS, OIDC_OPTIONS, Synthesized, raw_settings, synth

(UI_ROUTE,) = [route for route in SERVICES if route.is_default_route]
CERT = FULL_OPTIONS["certificate_arn"]
OIDC = OIDC_OPTIONS


@pytest.fixture(scope="module")
def oidc_stack(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    settings = settings_from_dict({**raw_settings(), **FULL_OPTIONS, **OIDC}, environ=DEPLOYED)
    return Synthesized(settings, synth(settings, tmp_path_factory.mktemp("oidc")))


def _https_actions(stack: Synthesized) -> list[dict[str, Any]]:
    return stack.one("aws_lb_listener", protocol="HTTPS")["default_action"]


def _page_environment(stack: Synthesized) -> dict[str, str]:
    container = stack.containers()[stack.settings.services[UI_ROUTE.name].container_name]
    return {item["name"]: item["value"] for item in container["environment"]}


def _bypass_rules(stack: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        rule["condition"][0]["path_pattern"]["values"][0]: rule
        for rule in stack.resources("aws_lb_listener_rule")
        if rule["condition"][0]["path_pattern"]["values"] in ([UI_ROUTE.health_path], [SIGNED_OUT_PATH])
    }


def test_open_page_has_no_sign_in(stack: Synthesized) -> None:
    assert stack.settings.page_access == "open"
    for type_ in ("aws_cognito_user_pool", "aws_cognito_user_pool_client", "aws_cognito_user_pool_domain"):
        assert not stack.resources(type_)
    assert "aws_secretsmanager_secret_version" not in stack.doc.get("data", {})
    (listener,) = stack.resources("aws_lb_listener")
    assert [action["type"] for action in listener["default_action"]] == ["forward"]
    assert not _bypass_rules(stack)
    assert not {"SIGN_IN_SIGNER", "SIGN_OUT_URL"} & set(_page_environment(stack))
    assert stack.doc["output"]["page_access"]["value"] == "open"


def test_cognito_listener_authenticates_then_forwards_to_the_page(full_stack: Synthesized) -> None:
    authenticate, forward = _https_actions(full_stack)
    assert (authenticate["type"], authenticate["order"]) == ("authenticate-cognito", 1)
    assert (forward["type"], forward["order"]) == ("forward", 2)
    assert full_stack.resolve(forward["target_group_arn"])["health_check"]["path"] == UI_ROUTE.health_path
    cognito = authenticate["authenticate_cognito"]
    assert cognito["on_unauthenticated_request"] == "authenticate"
    assert cognito["session_timeout"] == full_stack.settings.session_timeout == 28800
    pool = full_stack.resolve(cognito["user_pool_arn"].replace(".arn}", ".id}"))
    client = full_stack.resolve(cognito["user_pool_client_id"])
    domain = full_stack.resolve(cognito["user_pool_domain"])
    assert (pool["name"], client["name"]) == ("objdepth-cluster-users", "objdepth-cluster-load-balancer")
    assert domain["domain"] == "objdepth-cluster-${data.aws_caller_identity.identity.account_id}"


def test_cognito_user_pool_admits_only_users_the_operator_adds(full_stack: Synthesized) -> None:
    (pool,) = full_stack.resources("aws_cognito_user_pool")
    assert pool["admin_create_user_config"] == {"allow_admin_create_user_only": True}
    assert pool["password_policy"] == {
        "minimum_length": 14,
        "require_lowercase": True,
        "require_uppercase": True,
        "require_numbers": True,
        "require_symbols": True,
        "temporary_password_validity_days": 3,
    }
    assert pool["mfa_configuration"] == "OPTIONAL"
    assert pool["software_token_mfa_configuration"] == {"enabled": True}
    assert pool["deletion_protection"] == "ACTIVE"


def test_cognito_client_is_the_load_balancers_confidential_code_flow_client(full_stack: Synthesized) -> None:
    (client,) = full_stack.resources("aws_cognito_user_pool_client")
    base = "https://objdepth.example.com"
    assert client["generate_secret"] is True
    assert client["allowed_oauth_flows"] == ["code"] and client["allowed_oauth_flows_user_pool_client"]
    assert client["callback_urls"] == [f"{base}{CALLBACK_PATH}"]
    assert client["logout_urls"] == [f"{base}{SIGNED_OUT_PATH}"]
    assert client["supported_identity_providers"] == ["COGNITO"]
    assert full_stack.doc["output"]["user_pool_id"]["value"].startswith("${aws_cognito_user_pool.")


@pytest.mark.parametrize("which", ["cognito", "oidc"])
def test_health_path_and_signed_out_page_bypass_sign_in(
    which: str, full_stack: Synthesized, oidc_stack: Synthesized
) -> None:
    stack = full_stack if which == "cognito" else oidc_stack
    rules = _bypass_rules(stack)
    health, signed_out = rules[UI_ROUTE.health_path], rules[SIGNED_OUT_PATH]
    for rule in (health, signed_out):
        assert stack.resolve(rule["listener_arn"])["protocol"] == "HTTPS"
    (forward,) = health["action"]
    assert forward["type"] == "forward"
    assert stack.resolve(forward["target_group_arn"])["health_check"]["path"] == UI_ROUTE.health_path
    assert signed_out["action"][0]["fixed_response"]["status_code"] == "200"
    api_priorities = [
        r["priority"] for r in stack.resources("aws_lb_listener_rule") if r not in rules.values()
    ]
    assert max(health["priority"], signed_out["priority"]) < min(api_priorities)


def test_page_gets_what_it_verifies_the_identity_header_against(full_stack: Synthesized) -> None:
    env = _page_environment(full_stack)
    assert env["SIGN_IN_SIGNER"] == "${aws_lb.load-balancer_alb_15AADC07.arn}"
    assert full_stack.resolve(env["SIGN_IN_SIGNER"])["load_balancer_type"] == "application"
    assert env["SIGN_IN_REGION"] == "eu-west-1"
    assert env["SIGN_OUT_URL"].startswith(
        "https://objdepth-cluster-${data.aws_caller_identity.identity.account_id}.auth.eu-west-1"
        ".amazoncognito.com/logout?client_id=${aws_cognito_user_pool_client."
    )
    assert env["SIGN_OUT_URL"].endswith("&logout_uri=https%3A%2F%2Fobjdepth.example.com%2Fsigned-out")


def test_oidc_listener_reads_the_client_secret_from_secrets_manager(oidc_stack: Synthesized) -> None:
    authenticate, forward = _https_actions(oidc_stack)
    assert (authenticate["type"], forward["type"]) == ("authenticate-oidc", "forward")
    oidc = authenticate["authenticate_oidc"]
    assert {k: oidc[k] for k in ("issuer", "client_id")} == {
        "issuer": OIDC["oidc_issuer"],
        "client_id": OIDC["oidc_client_id"],
    }
    assert oidc["token_endpoint"] == OIDC["oidc_token_endpoint"]
    assert oidc["session_timeout"] == 28800
    secret_ref = oidc["client_secret"]
    assert secret_ref.startswith("${data.aws_secretsmanager_secret_version.") and secret_ref.endswith(
        ".secret_string}"
    )
    assert oidc_stack.resolve(secret_ref)["secret_id"] == OIDC["oidc_client_secret_name"]
    assert not oidc_stack.resources("aws_cognito_user_pool")
    assert _page_environment(oidc_stack)["SIGN_OUT_URL"] == OIDC["oidc_logout_endpoint"]


def test_oidc_secret_value_never_appears_in_the_synthesized_stack(oidc_stack: Synthesized) -> None:
    """Only the secret's name is a setting; every use of the value is the data source's reference."""
    listener = oidc_stack.one("aws_lb_listener", protocol="HTTPS")
    text = json.dumps(listener)
    assert text.count("client_secret") == 1
    assert "secretsmanager_secret_version" in text


@pytest.mark.parametrize("mode", ["cognito", "oidc"])
def test_sign_in_refuses_plain_http(mode: str) -> None:
    raw = {**raw_settings(), **OIDC, "page_access": mode}
    with pytest.raises(SettingsError, match=f"page_access = '{mode}' needs HTTPS"):
        settings_from_dict(raw, environ=DEPLOYED)


def test_oidc_names_what_it_lacks() -> None:
    raw = {**raw_settings(), "page_access": "oidc", "certificate_arn": CERT, "domain_name": "a.example.com"}
    with pytest.raises(SettingsError) as caught:
        settings_from_dict({**raw, "oidc_issuer": OIDC["oidc_issuer"]}, environ=DEPLOYED)
    assert "oidc_authorization_endpoint" in str(caught.value) and "oidc_client_secret_name" in str(
        caught.value
    )
    assert "oidc_issuer," not in str(caught.value)


@pytest.mark.parametrize(
    ("setting", "value"),
    [("session_timeout", 30), ("session_timeout", 700000), ("oidc_issuer", "http://login.example.com")],
)
def test_sign_in_settings_are_bounded(setting: str, value: Any) -> None:
    with pytest.raises(SettingsError, match=setting):
        settings_from_dict({**raw_settings(), **FULL_OPTIONS, setting: value}, environ=DEPLOYED)
