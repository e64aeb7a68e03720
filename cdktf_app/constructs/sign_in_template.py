"""The CloudFormation template that holds sign-in's secrets-bound parts, so Terraform's state never does.

The load balancer's OIDC action takes the client secret as a plain string, and the AWS provider pinned
here has no write-only argument for it: given to ``aws_lb_listener``, the value would be stored in the
Terraform state. Inside a CloudFormation template the secret is a dynamic reference
(``{{resolve:secretsmanager:<name>:SecretString:::<version id>}}``) that CloudFormation resolves when it
creates or updates the rule and never records; Terraform's state keeps the template, which holds only
the reference (AWS CDK's ``SecretValue.secretsManager`` does the same for ``authenticateOidc``). A
Cognito app client with a generated secret would likewise put ``client_secret`` in the state, so the
app client is made here too; the stack outputs only its id.

Terraform values (ARNs, ids) come in as template parameters, so the template itself is plain JSON.
"""

from __future__ import annotations

from typing import Any

# The authenticating rule is the listener's last rule: every path the rules before it do not answer.
AUTHENTICATE_RULE_PRIORITY = 50000
ALL_PATHS = "/*"
SCOPES = ["openid", "email"]


def _parameters(*names: str) -> dict[str, dict[str, str]]:
    return {name: {"Type": "String"} for name in names}


def _rule(authenticate: dict[str, Any]) -> dict[str, Any]:
    """Authenticate (order 1), then forward to the page's target group (order 2), on every path."""
    return {
        "Type": "AWS::ElasticLoadBalancingV2::ListenerRule",
        "Properties": {
            "ListenerArn": {"Ref": "ListenerArn"},
            "Priority": AUTHENTICATE_RULE_PRIORITY,
            "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": [ALL_PATHS]}}],
            "Actions": [
                {**authenticate, "Order": 1},
                {"Type": "forward", "Order": 2, "TargetGroupArn": {"Ref": "PageTargetGroupArn"}},
            ],
        },
    }


def _session(cookie_name: str, session_timeout: int) -> dict[str, Any]:
    return {
        "OnUnauthenticatedRequest": "authenticate",
        "SessionCookieName": cookie_name,
        "SessionTimeout": session_timeout,
    }


def cognito_template(
    *, client_name: str, callback_url: str, signed_out_url: str, cookie_name: str, session_timeout: int
) -> dict[str, Any]:
    """The load balancer's Cognito app client (confidential, code flow) and the authenticating rule.

    Parameters: ``ListenerArn``, ``PageTargetGroupArn``, ``UserPoolId``, ``UserPoolArn``,
    ``UserPoolDomain``. Output: ``ClientId``. The generated client secret stays in Cognito, which the load
    balancer asks for it itself.
    """
    client = {
        "Type": "AWS::Cognito::UserPoolClient",
        "Properties": {
            "UserPoolId": {"Ref": "UserPoolId"},
            "ClientName": client_name,
            "GenerateSecret": True,  # the load balancer's code flow needs a confidential client
            "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": SCOPES,
            "SupportedIdentityProviders": ["COGNITO"],
            "CallbackURLs": [callback_url],
            "LogoutURLs": [signed_out_url],
            "PreventUserExistenceErrors": "ENABLED",
            "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH"],
        },
    }
    authenticate = {
        "Type": "authenticate-cognito",
        "AuthenticateCognitoConfig": {
            "UserPoolArn": {"Ref": "UserPoolArn"},
            "UserPoolClientId": {"Ref": "Client"},
            "UserPoolDomain": {"Ref": "UserPoolDomain"},
            "Scope": " ".join(SCOPES),
            **_session(cookie_name, session_timeout),
        },
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "objdepth sign-in: the load balancer's Cognito app client and authenticating rule",
        "Parameters": _parameters(
            "ListenerArn", "PageTargetGroupArn", "UserPoolId", "UserPoolArn", "UserPoolDomain"
        ),
        "Resources": {"Client": client, "AuthenticateRule": _rule(authenticate)},
        "Outputs": {"ClientId": {"Value": {"Ref": "Client"}}},
    }


def secret_reference(secret_name: str, version_parameter: str) -> dict[str, Any]:
    """``{{resolve:secretsmanager:<name>:SecretString:::<version id>}}``, the version a parameter.

    Naming the version makes a new secret value a change of the rule, so CloudFormation resolves it
    again on the next deploy (an unchanged reference is never re-read).
    """
    prefix = f"{{{{resolve:secretsmanager:{secret_name}:SecretString:::"
    return {"Fn::Join": ["", [prefix, {"Ref": version_parameter}, "}}"]]}


def oidc_template(
    *,
    issuer: str,
    authorization_endpoint: str,
    token_endpoint: str,
    user_info_endpoint: str,
    client_id: str,
    client_secret_name: str,
    scope: str,
    cookie_name: str,
    session_timeout: int,
) -> dict[str, Any]:
    """The authenticating rule for an OpenID Connect provider, its client secret a dynamic reference.

    Parameters: ``ListenerArn``, ``PageTargetGroupArn``, ``ClientSecretVersion`` (the secret's
    ``AWSCURRENT`` version id).
    """
    authenticate = {
        "Type": "authenticate-oidc",
        "AuthenticateOidcConfig": {
            "Issuer": issuer,
            "AuthorizationEndpoint": authorization_endpoint,
            "TokenEndpoint": token_endpoint,
            "UserInfoEndpoint": user_info_endpoint,
            "ClientId": client_id,
            "ClientSecret": secret_reference(client_secret_name, "ClientSecretVersion"),
            "Scope": scope,
            **_session(cookie_name, session_timeout),
        },
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "objdepth sign-in: the load balancer's OpenID Connect authenticating rule",
        "Parameters": _parameters("ListenerArn", "PageTargetGroupArn", "ClientSecretVersion"),
        "Resources": {"AuthenticateRule": _rule(authenticate)},
    }
