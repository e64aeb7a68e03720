"""Sign-in at the load balancer: the authenticate action of the HTTPS listener, and what it needs.

``page_access = "cognito"`` makes a user pool (administrators add users; no self sign-up; a strong
password policy; optional TOTP MFA), its hosted sign-in domain and an app client for the load balancer.
``page_access = "oidc"`` signs in through an existing OpenID Connect provider; its client secret is read
from Secrets Manager at plan time. The load balancer API takes that secret as a plain string and the AWS
provider (6.25) has no write-only argument for it, so Terraform keeps it in the (encrypted, private)
state, marked sensitive; docs/sign-in.md says so. The same holds for the Cognito app client's secret.
"""

from __future__ import annotations

from urllib.parse import quote

from cdktf_app.cdk import (
    Construct,
    cognito_user_pool,
    cognito_user_pool_client,
    cognito_user_pool_domain,
    data_aws_secretsmanager_secret_version,
    lb_listener,
)
from cdktf_app.config import Settings

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


class SignIn(Construct):
    """The authenticate action for ``settings.page_access`` (``cognito`` or ``oidc``).

    Attributes: ``action`` (the listener's first default action), ``sign_out_url`` (where the page's
    "Sign out" sends the browser, "" when the provider has none), and for Cognito ``user_pool``,
    ``client`` and ``domain``; for OIDC ``client_secret`` (the Secrets Manager data source).
    """

    def __init__(self, scope: Construct, id_: str, *, settings: Settings, account_id: str) -> None:
        super().__init__(scope, id_)
        self._settings = settings
        self.user_pool = self.client = self.domain = self.client_secret = None
        if settings.page_access == "cognito":
            self.action, self.sign_out_url = self._cognito(account_id)
        elif settings.page_access == "oidc":
            self.action, self.sign_out_url = self._oidc()
        else:
            raise ValueError("SignIn is only made when page_access is cognito or oidc")

    def _cognito(self, account_id: str) -> tuple[lb_listener.LbListenerDefaultAction, str]:
        settings = self._settings
        base_url = https_base_url(settings)
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
        signed_out = f"{base_url}{SIGNED_OUT_PATH}"
        self.client = cognito_user_pool_client.CognitoUserPoolClient(
            self,
            "client",
            name=f"{settings.cluster_name}-load-balancer",
            user_pool_id=self.user_pool.id,
            generate_secret=True,  # the load balancer's code flow needs a confidential client
            allowed_oauth_flows_user_pool_client=True,
            allowed_oauth_flows=["code"],
            allowed_oauth_scopes=["openid", "email"],
            supported_identity_providers=["COGNITO"],
            callback_urls=[f"{base_url}{CALLBACK_PATH}"],
            logout_urls=[signed_out],
            prevent_user_existence_errors="ENABLED",
            explicit_auth_flows=["ALLOW_REFRESH_TOKEN_AUTH"],
        )
        action = lb_listener.LbListenerDefaultAction(
            type="authenticate-cognito",
            order=1,
            authenticate_cognito=lb_listener.LbListenerDefaultActionAuthenticateCognito(
                user_pool_arn=self.user_pool.arn,
                user_pool_client_id=self.client.id,
                user_pool_domain=self.domain.domain,
                scope="openid email",
                on_unauthenticated_request="authenticate",
                session_cookie_name=SESSION_COOKIE,
                session_timeout=settings.session_timeout,
            ),
        )
        # The client id is a Terraform reference here, so only the fixed URL is quoted.
        logout = f"https://{prefix}.auth.{settings.aws_region}.amazoncognito.com/logout"
        return action, f"{logout}?client_id={self.client.id}&logout_uri={quote(signed_out, safe='')}"

    def _oidc(self) -> tuple[lb_listener.LbListenerDefaultAction, str]:
        settings = self._settings
        self.client_secret = data_aws_secretsmanager_secret_version.DataAwsSecretsmanagerSecretVersion(
            self, "client-secret", secret_id=settings.oidc_client_secret_name
        )
        action = lb_listener.LbListenerDefaultAction(
            type="authenticate-oidc",
            order=1,
            authenticate_oidc=lb_listener.LbListenerDefaultActionAuthenticateOidc(
                issuer=settings.oidc_issuer,
                authorization_endpoint=settings.oidc_authorization_endpoint,
                token_endpoint=settings.oidc_token_endpoint,
                user_info_endpoint=settings.oidc_user_info_endpoint,
                client_id=settings.oidc_client_id,
                client_secret=self.client_secret.secret_string,
                scope=settings.oidc_scope,
                on_unauthenticated_request="authenticate",
                session_cookie_name=SESSION_COOKIE,
                session_timeout=settings.session_timeout,
            ),
        )
        return action, settings.oidc_logout_endpoint
