"""The sign-out Lambda handler on load balancer events shaped as the load balancer sends them."""

from __future__ import annotations

import json
from email.utils import parsedate_to_datetime
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

from cdktf_app.sign_out.handler import handler, logout_location, session_cookie_names

COGNITO_LOGOUT = "https://objdepth-cluster-123456789012.auth.eu-west-1.amazoncognito.com/logout"
SIGNED_OUT = "https://objdepth.example.com/signed-out"
COGNITO_ENV = {
    "SESSION_COOKIE": "ObjdepthSignIn",
    "SIGNED_OUT_URL": SIGNED_OUT,
    "IDP_LOGOUT_URL": COGNITO_LOGOUT,
    "IDP_LOGOUT_QUERY": json.dumps({"client_id": "4abc5def6ghi", "logout_uri": SIGNED_OUT}),
}


def alb_event(cookie: str | None = None) -> dict:
    """A request as an Application Load Balancer hands it to Lambda with multi-value headers on."""
    headers = {"host": ["objdepth.example.com"], "user-agent": ["test"], "x-forwarded-proto": ["https"]}
    if cookie is not None:
        headers["cookie"] = [cookie]
    return {
        "requestContext": {
            "elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/x/y"}
        },
        "httpMethod": "GET",
        "path": "/signout",
        "multiValueQueryStringParameters": {},
        "multiValueHeaders": headers,
        "body": "",
        "isBase64Encoded": False,
    }


def expired(response: dict) -> dict[str, SimpleCookie]:
    """Each Set-Cookie of the response, parsed, by cookie name."""
    jars = {}
    for value in response["multiValueHeaders"]["Set-Cookie"]:
        jar = SimpleCookie()
        jar.load(value)
        (name,) = jar
        jars[name] = jar[name]
    return jars


def test_every_session_cookie_shard_is_expired_on_the_whole_site() -> None:
    response = handler(
        alb_event("ObjdepthSignIn-0=abc; ObjdepthSignIn-1=def; streamlit=keep"), environ=COGNITO_ENV
    )
    assert response["statusCode"] == 302 and "headers" not in response
    cookies = expired(response)
    assert sorted(cookies) == [f"ObjdepthSignIn-{n}" for n in range(4)]
    for morsel in cookies.values():
        assert morsel.value == "" and morsel["max-age"] == "0" and morsel["path"] == "/"
        assert parsedate_to_datetime(morsel["expires"]).year == 1970
        assert morsel["secure"] and morsel["httponly"]
    assert response["multiValueHeaders"]["Cache-Control"] == ["no-store"]


def test_shards_beyond_the_usual_four_that_the_browser_sent_are_expired_too() -> None:
    names = session_cookie_names("ObjdepthSignIn", ["ObjdepthSignIn-5=x; ObjdepthSignIn-x=y; Other-9=z"])
    assert names == [f"ObjdepthSignIn-{n}" for n in (0, 1, 2, 3, 5)]
    assert session_cookie_names("ObjdepthSignIn", ['bad"cookie;;==']) == [
        f"ObjdepthSignIn-{n}" for n in range(4)
    ]


def test_cognito_logout_gets_the_client_id_and_the_encoded_return_address() -> None:
    (location,) = handler(alb_event(), environ=COGNITO_ENV)["multiValueHeaders"]["Location"]
    assert location == (
        f"{COGNITO_LOGOUT}?client_id=4abc5def6ghi&logout_uri=https%3A%2F%2Fobjdepth.example.com%2Fsigned-out"
    )
    assert parse_qs(urlsplit(location).query) == {"client_id": ["4abc5def6ghi"], "logout_uri": [SIGNED_OUT]}


def test_a_provider_logout_url_keeps_its_own_query_and_values_are_encoded() -> None:
    location = logout_location("https://login.example.com/logout?tenant=a b", {"x": "1&y=2"}, SIGNED_OUT)
    assert location == "https://login.example.com/logout?tenant=a+b&x=1%26y%3D2"


def test_without_a_provider_logout_the_browser_goes_to_the_signed_out_page() -> None:
    env = {"SESSION_COOKIE": "ObjdepthSignIn", "SIGNED_OUT_URL": SIGNED_OUT, "IDP_LOGOUT_URL": ""}
    response = handler({"headers": {"Cookie": "ObjdepthSignIn-0=abc"}}, environ=env)
    assert response["multiValueHeaders"]["Location"] == [SIGNED_OUT]
    assert len(expired(response)) == 4
