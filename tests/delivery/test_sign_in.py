"""Deploy and sign-in, against moto: the OIDC secret is checked before apply; Cognito users are explained."""

from __future__ import annotations

import pytest

from cdktf_app.settings_file import settings_from_dict
from delivery import pipeline, sign_in
from delivery.steps import DeliveryError
from tests.cdktf_app.helpers import DEPLOYED, FULL_OPTIONS, OIDC_OPTIONS, raw_settings

OIDC = OIDC_OPTIONS


def _settings(**changes):
    return settings_from_dict({**raw_settings(), **FULL_OPTIONS, **changes}, environ=DEPLOYED)


def test_a_missing_oidc_secret_stops_deploy_with_the_command_to_create_it(aws) -> None:
    with pytest.raises(DeliveryError) as caught:
        sign_in.require_oidc_secret(aws.client("secretsmanager"), OIDC["oidc_client_secret_name"])
    message = str(caught.value)
    assert "'objdepth/oidc-client-secret'" in message
    assert "create-secret --name objdepth/oidc-client-secret --secret-string file://" in message


def test_an_existing_oidc_secret_passes_and_its_value_is_never_printed(aws, capsys) -> None:
    client = aws.client("secretsmanager")
    client.create_secret(Name=OIDC["oidc_client_secret_name"], SecretString="s3cr3t-value")
    sign_in.require_oidc_secret(client, OIDC["oidc_client_secret_name"])
    assert "s3cr3t-value" not in capsys.readouterr().out


def test_deploy_checks_the_oidc_secret_in_the_secrets_step(aws) -> None:
    d = pipeline.Deployment(aws, tag="0123456789ab", settings=_settings(**OIDC))
    with pytest.raises(DeliveryError, match="needs the client secret in Secrets Manager"):
        d.ensure_secrets()


def test_summary_says_how_to_add_the_first_cognito_user(aws, capsys) -> None:
    cognito = aws.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName="objdepth-cluster-users")["UserPool"]["Id"]
    d = pipeline.Deployment(aws, tag="0123456789ab", settings=_settings())
    d.outputs = {"ui_url": "https://objdepth.example.com/", "user_pool_id": pool}
    d.print_summary()
    out = capsys.readouterr().out
    assert "Nobody can sign in yet. Add the first user" in out
    assert f"aws cognito-idp admin-create-user --region eu-west-1 --user-pool-id {pool} " in out

    cognito.admin_create_user(UserPoolId=pool, Username="ada@example.com")
    d.print_summary()
    out = capsys.readouterr().out
    assert "Nobody can sign in yet" not in out and "Add a user" in out


def test_summary_of_an_open_page_says_it_is_open() -> None:
    settings = settings_from_dict(raw_settings(), environ=DEPLOYED)
    assert sign_in.access_summary(settings, {}) == [
        "The page is open to anyone who has its address (page_access = open)."
    ]
