"""Sign-in at the load balancer, per ``page_access`` mode: listener rules, the user pool, the secret.

``open`` is the demo stack, ``cognito`` the production stack (its default); ``oidc`` is synthesized here
once for the module, with a secret name but never a secret value in the settings. Whatever carries a
secret lives in a CloudFormation stack's template; the tests read that template from the synthesized
``template_body`` like any other resource.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from cdktf_app.config import SettingsError
from cdktf_app.constructs.sign_in import CALLBACK_PATH, SIGNED_OUT_PATH
from cdktf_app.constructs.sign_in_template import AUTHENTICATE_RULE_PRIORITY
from cdktf_app.constructs.sign_out import SIGN_OUT_PATH
from cdktf_app.settings_file import settings_from_dict
from delivery.routes import SERVICES
from tests.cdktf_app.helpers import DEPLOYED, FULL_OPTIONS, OIDC_OPTIONS, Synthesized, raw_settings, synth

(UI_ROUTE,) = [route for route in SERVICES if route.is_default_route]
CERT = FULL_OPTIONS["certificate_arn"]
OIDC = OIDC_OPTIONS
BYPASS_PATHS = (UI_ROUTE.health_path, SIGNED_OUT_PATH, SIGN_OUT_PATH)


@pytest.fixture(scope="module")
def oidc_stack(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    settings = settings_from_dict({**raw_settings(), **FULL_OPTIONS, **OIDC}, environ=DEPLOYED)
    return Synthesized(settings, synth(settings, tmp_path_factory.mktemp("oidc")))


@pytest.fixture(params=["cognito", "oidc"])
def signed_in_stack(request: pytest.FixtureRequest) -> Synthesized:
    """Each sign-in mode's stack in turn."""
    return request.getfixturevalue("full_stack" if request.param == "cognito" else "oidc_stack")


def _template(stack: Synthesized) -> tuple[dict[str, Any], dict[str, str]]:
    """The sign-in CloudFormation stack's template (parsed) and its parameters."""
    (cfn,) = stack.resources("aws_cloudformation_stack")
    return json.loads(cfn["template_body"]), cfn["parameters"]


def _authenticate_rule(stack: Synthesized) -> tuple[dict[str, Any], dict[str, str]]:
    template, parameters = _template(stack)
    rule = template["Resources"]["AuthenticateRule"]
    assert rule["Type"] == "AWS::ElasticLoadBalancingV2::ListenerRule"
    return rule["Properties"], parameters


def _page_environment(stack: Synthesized) -> dict[str, str]:
    container = stack.containers()[stack.settings.services[UI_ROUTE.name].container_name]
    return {item["name"]: item["value"] for item in container["environment"]}


def _bypass_rules(stack: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        rule["condition"][0]["path_pattern"]["values"][0]: rule
        for rule in stack.resources("aws_lb_listener_rule")
        if rule["condition"][0]["path_pattern"]["values"] in ([path] for path in BYPASS_PATHS)
    }


def _secret_fields(node: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    """Every field named like a client secret, at any depth, templates parsed too."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key.lower().replace("_", "") in ("clientsecret", "secretstring"):
                yield f"{where}.{key}", value
            if key == "template_body":
                value = json.loads(value)
            yield from _secret_fields(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _secret_fields(value, f"{where}[{index}]")


def test_open_page_has_no_sign_in(stack: Synthesized) -> None:
    assert stack.settings.page_access == "open"
    for type_ in ("aws_cognito_user_pool", "aws_cloudformation_stack", "aws_lambda_function"):
        assert not stack.resources(type_)
    assert not {"aws_secretsmanager_secret_versions", "aws_secretsmanager_secret_version"} & set(
        stack.doc["data"]
    )
    (listener,) = stack.resources("aws_lb_listener")
    assert [action["type"] for action in listener["default_action"]] == ["forward"]
    assert not _bypass_rules(stack)
    assert not {"SIGN_IN_SIGNER", "SIGN_OUT_URL"} & set(_page_environment(stack))
    assert stack.doc["output"]["page_access"]["value"] == "open"


def test_listener_without_its_authenticating_rule_lets_nobody_in(signed_in_stack: Synthesized) -> None:
    (action,) = signed_in_stack.one("aws_lb_listener", protocol="HTTPS")["default_action"]
    assert action["type"] == "fixed-response" and action["fixed_response"]["status_code"] == "503"


def test_the_rule_authenticates_every_path_then_forwards_to_the_page(signed_in_stack: Synthesized) -> None:
    rule, parameters = _authenticate_rule(signed_in_stack)
    assert rule["Priority"] == AUTHENTICATE_RULE_PRIORITY == 50000
    assert rule["Conditions"] == [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}]
    authenticate, forward = rule["Actions"]
    assert (authenticate["Order"], forward) == (
        1,
        {"Type": "forward", "Order": 2, "TargetGroupArn": {"Ref": "PageTargetGroupArn"}},
    )
    config = authenticate.get("AuthenticateCognitoConfig") or authenticate["AuthenticateOidcConfig"]
    assert config["OnUnauthenticatedRequest"] == "authenticate"
    assert config["SessionTimeout"] == signed_in_stack.settings.session_timeout == 28800
    assert signed_in_stack.resolve(parameters["ListenerArn"])["protocol"] == "HTTPS"
    page = signed_in_stack.resolve(parameters["PageTargetGroupArn"])
    assert page["health_check"]["path"] == UI_ROUTE.health_path


def test_cognito_rule_uses_the_pool_its_domain_and_the_stacks_app_client(full_stack: Synthesized) -> None:
    rule, parameters = _authenticate_rule(full_stack)
    cognito = rule["Actions"][0]["AuthenticateCognitoConfig"]
    assert rule["Actions"][0]["Type"] == "authenticate-cognito"
    assert cognito["UserPoolClientId"] == {"Ref": "Client"}
    assert {cognito["UserPoolArn"]["Ref"], cognito["UserPoolDomain"]["Ref"]} <= set(parameters)
    pool = full_stack.resolve(parameters["UserPoolArn"].replace(".arn}", ".id}"))
    domain = full_stack.resolve(parameters["UserPoolDomain"])
    assert pool["name"] == "objdepth-cluster-users"
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


def test_cognito_app_client_lives_in_the_stack_which_outputs_only_its_id(full_stack: Synthesized) -> None:
    """Terraform would record a generated secret in its state; CloudFormation keeps it inside Cognito."""
    assert not full_stack.resources("aws_cognito_user_pool_client")
    template, _ = _template(full_stack)
    client = template["Resources"]["Client"]
    assert client["Type"] == "AWS::Cognito::UserPoolClient"
    props, base = client["Properties"], "https://objdepth.example.com"
    assert props["GenerateSecret"] is True
    assert props["AllowedOAuthFlows"] == ["code"] and props["AllowedOAuthFlowsUserPoolClient"]
    assert props["CallbackURLs"] == [f"{base}{CALLBACK_PATH}"]
    assert props["LogoutURLs"] == [f"{base}{SIGNED_OUT_PATH}"]
    assert props["SupportedIdentityProviders"] == ["COGNITO"]
    assert template["Outputs"] == {"ClientId": {"Value": {"Ref": "Client"}}}
    assert full_stack.doc["output"]["user_pool_id"]["value"].startswith("${aws_cognito_user_pool.")


def test_bypass_rules_come_before_every_other_rule(signed_in_stack: Synthesized) -> None:
    rules = _bypass_rules(signed_in_stack)
    assert set(rules) == set(BYPASS_PATHS)
    for rule in rules.values():
        assert signed_in_stack.resolve(rule["listener_arn"])["protocol"] == "HTTPS"
    (forward,) = rules[UI_ROUTE.health_path]["action"]
    assert (
        signed_in_stack.resolve(forward["target_group_arn"])["health_check"]["path"] == UI_ROUTE.health_path
    )
    assert rules[SIGNED_OUT_PATH]["action"][0]["fixed_response"]["status_code"] == "200"
    others = [
        r["priority"] for r in signed_in_stack.resources("aws_lb_listener_rule") if r not in rules.values()
    ]
    assert max(r["priority"] for r in rules.values()) < min(others)
    assert max(others) < AUTHENTICATE_RULE_PRIORITY


def test_page_gets_what_it_verifies_the_identity_header_against(full_stack: Synthesized) -> None:
    env = _page_environment(full_stack)
    assert env["SIGN_IN_SIGNER"] == "${aws_lb.load-balancer_alb_15AADC07.arn}"
    assert full_stack.resolve(env["SIGN_IN_SIGNER"])["load_balancer_type"] == "application"
    assert env["SIGN_IN_REGION"] == "eu-west-1"
    assert env["SIGN_OUT_URL"] == "https://objdepth.example.com/signout"


def test_oidc_rule_reads_the_client_secret_through_a_dynamic_reference(oidc_stack: Synthesized) -> None:
    rule, parameters = _authenticate_rule(oidc_stack)
    authenticate = rule["Actions"][0]
    assert authenticate["Type"] == "authenticate-oidc"
    oidc = authenticate["AuthenticateOidcConfig"]
    assert {k: oidc[k] for k in ("Issuer", "ClientId", "TokenEndpoint", "Scope")} == {
        "Issuer": OIDC["oidc_issuer"],
        "ClientId": OIDC["oidc_client_id"],
        "TokenEndpoint": OIDC["oidc_token_endpoint"],
        "Scope": "openid email",
    }
    assert oidc["ClientSecret"] == {
        "Fn::Join": [
            "",
            [
                f"{{{{resolve:secretsmanager:{OIDC['oidc_client_secret_name']}:SecretString:::",
                {"Ref": "ClientSecretVersion"},
                "}}",
            ],
        ]
    }
    # The version parameter names the secret's current version, read from version metadata only.
    version = parameters["ClientSecretVersion"]
    (versions_id,) = oidc_stack.doc["data"]["aws_secretsmanager_secret_versions"]
    assert f"data.aws_secretsmanager_secret_versions.{versions_id}.versions" in version
    assert 'contains(v.version_stages, "AWSCURRENT")' in version
    assert (
        oidc_stack.doc["data"]["aws_secretsmanager_secret_versions"][versions_id]["secret_id"]
        == OIDC["oidc_client_secret_name"]
    )
    assert not oidc_stack.resources("aws_cognito_user_pool")


def test_no_secret_value_reaches_terraform(signed_in_stack: Synthesized) -> None:
    """No resource or data source Terraform keeps in its state holds or reads a client secret."""
    assert "aws_secretsmanager_secret_version" not in signed_in_stack.doc["data"]
    assert not signed_in_stack.resources("aws_cognito_user_pool_client")
    fields = dict(_secret_fields(signed_in_stack.doc))
    for where, value in fields.items():
        assert not isinstance(value, str), f"{where} holds a literal: {value!r}"
        (prefix, _, _) = value["Fn::Join"][1]
        assert prefix.startswith("{{resolve:secretsmanager:"), where
    assert len(fields) == (1 if signed_in_stack.settings.page_access == "oidc" else 0)
    # The stack outputs nothing but the app client id (Terraform stores every output).
    template, _ = _template(signed_in_stack)
    assert set(template.get("Outputs", {})) <= {"ClientId"}


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
