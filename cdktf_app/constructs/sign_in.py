"""Sign-in at the load balancer: the HTTPS listener's authenticating rule, and what it needs.

``page_access = "cognito"`` makes a user pool (administrators add users; no self sign-up; a strong
password policy; optional TOTP MFA) and its hosted sign-in domain. ``page_access = "oidc"`` signs in
through an existing OpenID Connect provider whose client secret the operator put in Secrets Manager.
Whatever would carry a secret (the Cognito app client, whose generated secret Terraform would record;
the OIDC action, which takes the secret as a string) lives in a CloudFormation stack
(``sign_in_template.py``), so the Terraform state holds only a Secrets Manager reference. The rule in
that stack authenticates every path the listener's earlier rules leave, then forwards to the page.
"""

from __future__ import annotations

import json

from cdktf_app.cdk import (
    Construct,
    cloudformation_stack,
    cognito_user_pool,
    cognito_user_pool_domain,
    data_aws_secretsmanager_secret_versions,
)
from cdktf_app.config import Settings
from cdktf_app.constructs.sign_in_template import cognito_template, oidc_template

# The fixed path on which the load balancer receives the identity provider's answer.
CALLBACK_PATH = "/oauth2/idpresponse"
# Public page the identity provider's logout returns to (answered by the load balancer itself).
SIGNED_OUT_PATH = "/signed-out"
SESSION_COOKIE = "ObjdepthSignIn"
MIN_PASSWORD_LENGTH = 14


def https_base_url(settings: Settings) -> str:
    """The platform's HTTPS address (``https://<domain_name>[:port]``), where sign-in happens."""
    port = "" if settings.https_listener_port == 443 else f":{settings.https_listener_port}"
    return f"https://{settings.domain_name}{port}"


def current_version_id(
    versions: data_aws_secretsmanager_secret_versions.DataAwsSecretsmanagerSecretVersions,
) -> str:
    """The id of the secret's ``AWSCURRENT`` version (the data source lists versions, never values)."""
    return (
        f"${{[for v in {versions.fqn}.versions : v.version_id"
        ' if contains(v.version_stages, "AWSCURRENT")][0]}'
    )


class SignIn(Construct):
    """Authentication for ``settings.page_access`` (``cognito`` or ``oidc``) on the HTTPS listener.

    Attributes: ``stack`` (the CloudFormation stack holding the authenticating rule), ``logout_url`` and
    ``logout_query`` (the provider's logout endpoint and the query parameters it needs; ``""`` and ``{}``
    when the provider has none), ``signed_out_url``; for Cognito ``user_pool``, ``domain`` and
    ``client_id``; for OIDC ``secret_versions`` (version metadata of the client secret, no value).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: Settings,
        account_id: str,
        listener_arn: str,
        page_target_group_arn: str,
    ) -> None:
        super().__init__(scope, id_)
        self._settings = settings
        self.signed_out_url = f"{https_base_url(settings)}{SIGNED_OUT_PATH}"
        self.user_pool = self.domain = self.client_id = self.secret_versions = None
        wiring = {"ListenerArn": listener_arn, "PageTargetGroupArn": page_target_group_arn}
        if settings.page_access == "cognito":
            template, parameters = self._cognito(account_id)
        elif settings.page_access == "oidc":
            template, parameters = self._oidc()
        else:
            raise ValueError("SignIn is only made when page_access is cognito or oidc")
        self.stack = cloudformation_stack.CloudformationStack(
            self,
            "stack",
            name=f"{settings.cluster_name}-sign-in",
            template_body=json.dumps(template, indent=1, sort_keys=True),
            parameters={**wiring, **parameters},
        )
        if settings.page_access == "cognito":
            self.client_id = self.stack.outputs.lookup("ClientId")
            self.logout_query = {"client_id": self.client_id, "logout_uri": self.signed_out_url}

    def _cognito(self, account_id: str) -> tuple[dict, dict[str, str]]:
        settings = self._settings
        self.user_pool = cognito_user_pool.CognitoUserPool(
            self,
            "users",
            name=f"{settings.cluster_name}-users",
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            admin_create_user_config={"allow_admin_create_user_only": True},
            password_policy={
                "minimum_length": MIN_PASSWORD_LENGTH,
                "require_lowercase": True,
                "require_uppercase": True,
                "require_numbers": True,
                "require_symbols": True,
                "temporary_password_validity_days": 3,
            },
            mfa_configuration="OPTIONAL",
            software_token_mfa_configuration={"enabled": True},
            account_recovery_setting={"recovery_mechanism": [{"name": "verified_email", "priority": 1}]},
            # One switch protects the load balancer and the users: production's alb_deletion_protection.
            deletion_protection="ACTIVE" if settings.alb_deletion_protection else "INACTIVE",
        )
        prefix = settings.cognito_domain_prefix or f"{settings.cluster_name}-{account_id}"
        self.domain = cognito_user_pool_domain.CognitoUserPoolDomain(
            self, "domain", domain=prefix, user_pool_id=self.user_pool.id
        )
        self.logout_url = f"https://{prefix}.auth.{settings.aws_region}.amazoncognito.com/logout"
        template = cognito_template(
            client_name=f"{settings.cluster_name}-load-balancer",
            callback_url=f"{https_base_url(settings)}{CALLBACK_PATH}",
            signed_out_url=self.signed_out_url,
            cookie_name=SESSION_COOKIE,
            session_timeout=settings.session_timeout,
        )
        return template, {
            "UserPoolId": self.user_pool.id,
            "UserPoolArn": self.user_pool.arn,
            "UserPoolDomain": self.domain.domain,
        }

    def _oidc(self) -> tuple[dict, dict[str, str]]:
        settings = self._settings
        self.secret_versions = data_aws_secretsmanager_secret_versions.DataAwsSecretsmanagerSecretVersions(
            self, "client-secret-versions", secret_id=settings.oidc_client_secret_name
        )
        self.logout_url, self.logout_query = settings.oidc_logout_endpoint, {}
        template = oidc_template(
            issuer=settings.oidc_issuer,
            authorization_endpoint=settings.oidc_authorization_endpoint,
            token_endpoint=settings.oidc_token_endpoint,
            user_info_endpoint=settings.oidc_user_info_endpoint,
            client_id=settings.oidc_client_id,
            client_secret_name=settings.oidc_client_secret_name,
            scope=settings.oidc_scope,
            cookie_name=SESSION_COOKIE,
            session_timeout=settings.session_timeout,
        )
        return template, {"ClientSecretVersion": current_version_id(self.secret_versions)}
