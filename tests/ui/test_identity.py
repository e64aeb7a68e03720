"""The load balancer's identity header, checked with real ES256 signatures, and the page showing the user.

Tokens are made the way the Application Load Balancer makes them: a P-256 key signs
``base64url(header).base64url(claims)`` (with ``=`` padding, as the load balancer writes it), the header
naming the key id, the signing load balancer's ARN and the expiry. The public key is served by a small
HTTP server on 127.0.0.1 standing in for ``public-keys.auth.elb.<region>.amazonaws.com``.
"""

from __future__ import annotations

import base64
import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import streamlit as st
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from streamlit.testing.v1 import AppTest

from ui import identity
from ui.identity import (
    IDENTITY_HEADER,
    IdentityError,
    PublicKeys,
    SignInConfig,
    verify,
)

SIGNER = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/objdepth-alb/0123456789abcdef"
OTHER_SIGNER = "arn:aws:elasticloadbalancing:eu-west-1:999999999999:loadbalancer/app/evil/fedcba9876543210"
KID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
APP_SCRIPT = Path(__file__).resolve().parents[2] / "ui" / "app.py"


def _segment(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")  # padded, like the load balancer's


def make_token(
    key: ec.EllipticCurvePrivateKey,
    *,
    signer: str = SIGNER,
    kid: str = KID,
    expires_in: float = 120,
    claims: dict | None = None,
    alg: str = "ES256",
) -> str:
    """An ``x-amzn-oidc-data`` value signed with ``key``."""
    header = {"alg": alg, "kid": kid, "signer": signer, "iss": "https://idp.example.com", "client": "c"}
    header["exp"] = int(time.time() + expires_in)
    body = claims if claims is not None else {"sub": "1234", "email": "ada@example.com", "exp": header["exp"]}
    signing_input = f"{_segment(json.dumps(header).encode())}.{_segment(json.dumps(body).encode())}"
    r, s = decode_dss_signature(key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{_segment(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


@pytest.fixture(scope="module")
def alb_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.fixture(scope="module")
def key_server(alb_key) -> Iterator[tuple[str, list[str]]]:
    """A stand-in for the regional public-key endpoint: ``(url template, paths requested)``."""
    requested: list[str] = []
    pem = _pem(alb_key)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requested.append(self.path)
            found = self.path == f"/eu-west-1/{KID}"
            self.send_response(200 if found else 404)
            self.end_headers()
            self.wfile.write(pem if found else b"no such key")

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/{{region}}/{{kid}}", requested
    server.shutdown()
    thread.join(5)


@pytest.fixture
def keys(key_server) -> PublicKeys:
    return PublicKeys("eu-west-1", key_server[0])


def test_a_valid_token_gives_the_user(alb_key, keys) -> None:
    user = verify(make_token(alb_key), signer=SIGNER, keys=keys)
    assert user.name == "ada@example.com"
    assert user.claims["sub"] == "1234"


def test_the_public_key_is_fetched_once_per_key_id(alb_key, key_server) -> None:
    url, requested = key_server
    keys = PublicKeys("eu-west-1", url)
    before = len(requested)
    for _ in range(3):
        verify(make_token(alb_key), signer=SIGNER, keys=keys)
    assert requested[before:] == [f"/eu-west-1/{KID}"]


def test_an_expired_token_is_refused(alb_key, keys) -> None:
    with pytest.raises(IdentityError, match="expired"):
        verify(make_token(alb_key, expires_in=-3600), signer=SIGNER, keys=keys)


def test_a_token_of_another_load_balancer_is_refused(alb_key, keys) -> None:
    with pytest.raises(IdentityError, match=r"signed by .*evil.*not this load balancer"):
        verify(make_token(alb_key, signer=OTHER_SIGNER), signer=SIGNER, keys=keys)


@pytest.mark.parametrize("token", [None, ""])
def test_a_missing_header_is_refused(keys, token) -> None:
    with pytest.raises(IdentityError, match="no x-amzn-oidc-data header"):
        verify(token, signer=SIGNER, keys=keys)


def test_a_token_signed_with_another_key_is_refused(keys) -> None:
    forged = make_token(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(IdentityError, match="signature does not match"):
        verify(forged, signer=SIGNER, keys=keys)


def test_changed_claims_break_the_signature(alb_key, keys) -> None:
    header, _, signature = make_token(alb_key).split(".")
    claims = _segment(json.dumps({"sub": "1", "email": "mallory@example.com"}).encode())
    with pytest.raises(IdentityError, match="signature does not match"):
        verify(f"{header}.{claims}.{signature}", signer=SIGNER, keys=keys)


def test_an_unknown_key_id_is_refused(alb_key, keys) -> None:
    with pytest.raises(IdentityError, match="cannot get the load balancer's key"):
        verify(make_token(alb_key, kid="not-a-key"), signer=SIGNER, keys=keys)


@pytest.mark.parametrize("kid", ["", "../eu-west-1/" + KID, KID + "?x=1", "a/b"])
def test_a_key_id_that_is_not_a_plain_id_is_never_fetched(alb_key, key_server, kid) -> None:
    url, requested = key_server
    before = len(requested)
    with pytest.raises(IdentityError, match="unusable key id"):
        verify(make_token(alb_key, kid=kid), signer=SIGNER, keys=PublicKeys("eu-west-1", url))
    assert len(requested) == before


@pytest.mark.parametrize("alg", ["none", "HS256", "ES384"])
def test_other_algorithms_are_refused(alb_key, keys, alg) -> None:
    with pytest.raises(IdentityError, match="not ES256"):
        verify(make_token(alb_key, alg=alg), signer=SIGNER, keys=keys)


@pytest.mark.parametrize("token", ["abc", "a.b", "!!.??.##", "e30.e30.e30"])
def test_garbage_is_refused_with_a_reason(keys, token) -> None:
    with pytest.raises(IdentityError):
        verify(token, signer=SIGNER, keys=keys)


def test_sign_in_is_off_without_the_signer_setting() -> None:
    assert SignInConfig.from_environment({}) is None
    config = SignInConfig.from_environment({"SIGN_IN_SIGNER": SIGNER, "SIGN_OUT_URL": "https://idp/logout"})
    assert (config.region, config.sign_out_url) == ("eu-west-1", "https://idp/logout")


# --- The page, through AppTest ----------------------------------------------------------------------
# AppTest cannot seed request headers (st.context.headers comes from the browser's session), so the
# page's own `st.context.headers` is replaced by a mapping holding the header for these tests.


@pytest.fixture
def signed_in_page(monkeypatch, key_server):
    monkeypatch.setenv("SIGN_IN_SIGNER", SIGNER)
    monkeypatch.setenv("SIGN_IN_REGION", "eu-west-1")
    monkeypatch.setenv("SIGN_IN_KEY_URL", key_server[0])
    monkeypatch.setenv("SIGN_OUT_URL", "https://objdepth.example.com/signout")
    # The APIs are unreachable: the page still renders its sidebar (health errors) without them.
    monkeypatch.setenv("DETECTION_API_URL", "http://127.0.0.1:9/yoloapi")
    monkeypatch.setenv("DEPTH_API_URL", "http://127.0.0.1:9/depthapi")

    def run(headers: dict[str, str]) -> AppTest:
        monkeypatch.setattr(type(st.context), "headers", property(lambda self: headers))
        return AppTest.from_file(str(APP_SCRIPT), default_timeout=60).run()

    return run


def test_the_page_shows_the_verified_user_and_sign_out(signed_in_page, alb_key) -> None:
    page = signed_in_page({IDENTITY_HEADER: make_token(alb_key)})
    assert not page.exception
    assert any("Signed in as **ada@example.com**" in m.value for m in page.sidebar.markdown)
    # Sign out goes to the load balancer's /signout in this tab (which leaves the page's websocket).
    (link,) = [m for m in page.sidebar.markdown if "Sign out" in m.value]
    assert link.value == '<a href="https://objdepth.example.com/signout" target="_self">Sign out</a>'
    assert link.allow_html
    assert not page.get("link_button")
    assert page.title[0].value.startswith("What is in this photo")


@pytest.mark.parametrize("case", ["missing", "expired", "wrong signer"])
def test_the_page_shows_nothing_without_a_valid_identity(signed_in_page, alb_key, case) -> None:
    token = {
        "missing": None,
        "expired": make_token(alb_key, expires_in=-3600),
        "wrong signer": make_token(alb_key, signer=OTHER_SIGNER),
    }[case]
    page = signed_in_page({IDENTITY_HEADER: token} if token else {})
    assert not page.exception
    (error,) = page.sidebar.error  # only this one: the page stopped before the API health checks
    assert error.value.startswith("Sign-in could not be verified")
    assert not page.title, "the page must stop before showing anything"


def test_a_session_keeps_its_verified_user_after_the_token_expires(signed_in_page, alb_key, monkeypatch):
    """Streamlit reruns with the websocket's first headers; the check is per header, once per session."""
    page = signed_in_page({IDENTITY_HEADER: make_token(alb_key, expires_in=30)})
    assert page.title, "signed in"
    later = time.time() + 3600
    monkeypatch.setattr(identity, "time", SimpleNamespace(time=lambda: later))
    page.run()
    assert page.title
    assert not [e for e in page.sidebar.error if e.value.startswith("Sign-in")]
    assert any(m.value.startswith("Signed in as") for m in page.sidebar.markdown)
    fresh = AppTest.from_file(str(APP_SCRIPT), default_timeout=60).run()
    (error,) = fresh.sidebar.error
    assert "expired" in error.value and not fresh.title, "a new session checks the header again"


def test_the_user_name_is_shown_as_text_not_markup(signed_in_page, alb_key) -> None:
    claims = {"sub": "1", "email": "*ada*_[x](https://evil.example)@example.com"}
    page = signed_in_page({IDENTITY_HEADER: make_token(alb_key, claims=claims)})
    (line,) = [m.value for m in page.sidebar.markdown if m.value.startswith("Signed in as")]
    assert line == "Signed in as **\\*ada\\*\\_\\[x\\](https://evil.example)@example.com**"
