"""Who is signed in: the load balancer's identity header, verified, and the sidebar line showing it.

With sign-in on (``page_access`` ``cognito`` or ``oidc`` in ``cdktf_app/settings.toml``) the Application
Load Balancer authenticates every browser before forwarding it, and adds ``x-amzn-oidc-data``: the
user's claims as a JWT signed with ES256 by the load balancer. The header is only believed after
checking, as AWS asks: the signature against the region's public key for the token's key id (fetched
from ``https://public-keys.auth.elb.<region>.amazonaws.com/<kid>`` and cached), the ``signer`` against
this deployment's load balancer ARN, and the expiry. The stack passes the expected ARN and region in
``SIGN_IN_SIGNER`` and ``SIGN_IN_REGION`` and the load balancer's sign-out address in ``SIGN_OUT_URL``;
without ``SIGN_IN_SIGNER`` (local runs, the demo profile) the page has no sign-in and shows nothing.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import os
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

IDENTITY_HEADER = "x-amzn-oidc-data"
SIGNER_ENV = "SIGN_IN_SIGNER"
REGION_ENV = "SIGN_IN_REGION"
SIGN_OUT_URL_ENV = "SIGN_OUT_URL"
# Where AWS publishes the load balancers' public keys; ``{region}`` and ``{kid}`` are filled in.
KEY_URL_ENV = "SIGN_IN_KEY_URL"
KEY_URL = "https://public-keys.auth.elb.{region}.amazonaws.com/{kid}"
# Tolerated clock difference between the load balancer and this server, in seconds.
CLOCK_SKEW_S = 60
KEY_FETCH_TIMEOUT_S = 5
# Key ids are UUIDs; anything else is refused before it goes into a URL.
_KEY_ID = re.compile(r"[A-Za-z0-9-]{1,128}")


class IdentityError(ValueError):
    """The identity header is missing or does not prove who the user is; the message says why."""


@dataclass(frozen=True)
class SignedInUser:
    """The verified user: a name to show, and every claim the identity provider sent."""

    name: str
    claims: dict[str, Any]


def _b64decode(segment: str) -> bytes:
    # The load balancer pads its base64url segments with "=", which strict JWT libraries refuse.
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as err:
        raise IdentityError(f"identity header is not a JWT ({err})") from None


def _json_segment(segment: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64decode(segment))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise IdentityError(f"identity header's {what} is not JSON ({err})") from None
    if not isinstance(value, dict):
        raise IdentityError(f"identity header's {what} is not a JSON object")
    return value


class PublicKeys:
    """The load balancer's public keys by key id, fetched once each and kept (keys never change)."""

    def __init__(self, region: str, url_template: str = KEY_URL, fetch: Callable[[str], bytes] | None = None):
        self._region = region
        self._template = url_template
        self._fetch = fetch or self._download
        self._keys: dict[str, ec.EllipticCurvePublicKey] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _download(url: str) -> bytes:
        with urllib.request.urlopen(url, timeout=KEY_FETCH_TIMEOUT_S) as response:
            return response.read(16_384)

    def get(self, kid: str) -> ec.EllipticCurvePublicKey:
        """The key ``kid``; raises ``IdentityError`` when it cannot be fetched or is not a P-256 key."""
        with self._lock:
            if kid in self._keys:
                return self._keys[kid]
        if not _KEY_ID.fullmatch(kid):
            raise IdentityError(f"identity header has an unusable key id {kid!r}")
        url = self._template.format(region=self._region, kid=kid)
        try:
            key = serialization.load_pem_public_key(self._fetch(url))
        except (OSError, ValueError) as err:
            raise IdentityError(f"cannot get the load balancer's key {kid} from {url} ({err})") from None
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            raise IdentityError(f"public key {kid} is not an EC P-256 key")
        with self._lock:
            self._keys[kid] = key
        return key


def verify(
    token: str | None, *, signer: str, keys: PublicKeys, now: Callable[[], float] | None = None
) -> SignedInUser:
    """The user the load balancer vouches for in ``token`` (the ``x-amzn-oidc-data`` header).

    Raises ``IdentityError`` when the header is missing, malformed, signed by another load balancer or
    with another algorithm, signed wrongly, or expired.
    """
    if not token:
        raise IdentityError(f"no {IDENTITY_HEADER} header: the request did not come through sign-in")
    parts = token.split(".")
    if len(parts) != 3:
        raise IdentityError("identity header is not a JWT (three dot-separated parts)")
    header = _json_segment(parts[0], "header")
    if header.get("alg") != "ES256":
        raise IdentityError(f"identity header is signed with {header.get('alg')!r}, not ES256")
    if header.get("signer") != signer:
        raise IdentityError(f"identity header was signed by {header.get('signer')!r}, not this load balancer")
    signature = _b64decode(parts[2])
    if len(signature) != 64:
        raise IdentityError("identity header's signature is not an ES256 signature")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        keys.get(str(header.get("kid", ""))).verify(
            der, f"{parts[0]}.{parts[1]}".encode("ascii"), ec.ECDSA(hashes.SHA256())
        )
    except InvalidSignature:
        raise IdentityError("identity header's signature does not match the load balancer's key") from None
    claims = _json_segment(parts[1], "claims")
    expiry = header.get("exp", claims.get("exp"))
    if not isinstance(expiry, int | float):
        raise IdentityError("identity header carries no expiry")
    if (now or time.time)() > expiry + CLOCK_SKEW_S:
        raise IdentityError("identity header has expired")
    names = (str(claims[k]) for k in ("email", "preferred_username", "username", "sub") if claims.get(k))
    name = next(names, "")
    return SignedInUser(name=name or "unknown user", claims=claims)


@dataclass(frozen=True)
class SignInConfig:
    """What the page needs to check the header: this load balancer's ARN, its region, the sign-out URL."""

    signer: str
    region: str
    sign_out_url: str
    key_url: str = KEY_URL

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> SignInConfig | None:
        """The configuration the stack set, or ``None`` when sign-in is off (no ``SIGN_IN_SIGNER``)."""
        env = os.environ if environ is None else environ
        signer = env.get(SIGNER_ENV, "").strip()
        if not signer:
            return None
        region = env.get(REGION_ENV, "").strip() or signer.split(":")[3]
        return cls(signer, region, env.get(SIGN_OUT_URL_ENV, "").strip(), env.get(KEY_URL_ENV, "") or KEY_URL)


_KEYS: dict[tuple[str, str], PublicKeys] = {}


def keys_for(config: SignInConfig) -> PublicKeys:
    """One key cache per region and key URL for the whole server process."""
    return _KEYS.setdefault((config.region, config.key_url), PublicKeys(config.region, config.key_url))


# The session keeps the header it verified: Streamlit's headers are those of the browser's websocket
# request, unchanged on every rerun, while the load balancer's token expires soon after it is issued. A new
# connection (reload, reconnect) brings a fresh header, and with it a fresh check.
_SESSION_KEY = "_verified_sign_in"


def _verified_once_per_session(token: str | None, config: SignInConfig) -> SignedInUser:
    seen = st.session_state.get(_SESSION_KEY)
    if token and seen is not None and seen[0] == token:
        return seen[1]
    user = verify(token, signer=config.signer, keys=keys_for(config))
    st.session_state[_SESSION_KEY] = (token, user)
    return user


def show_signed_in_user(
    sidebar, headers: Mapping[str, str], config: SignInConfig | None
) -> SignedInUser | None:
    """Render "Signed in as … · Sign out" in ``sidebar``; a header that fails the check stops the page.

    Returns the verified user, or ``None`` when sign-in is off. With sign-in on, a missing or forged
    header means the request bypassed the load balancer's authentication: the page says so and stops
    (``st.stop()``), showing nothing else.
    """
    if config is None:
        return None
    token = headers.get(IDENTITY_HEADER)
    try:
        user = _verified_once_per_session(token, config)
    except IdentityError as err:
        sidebar.error(f"Sign-in could not be verified: {err}. Reload the page to sign in again.")
        st.stop()
    sidebar.markdown(f"Signed in as **{_markdown_text(user.name)}**")
    if config.sign_out_url:
        # A link in this tab, not st.link_button's new tab: leaving the page closes its websocket, which
        # the load balancer admitted signed in and would otherwise keep serving after sign-out.
        link = f'<a href="{html.escape(config.sign_out_url)}" target="_self">Sign out</a>'
        sidebar.markdown(link, unsafe_allow_html=True)
    return user


def _markdown_text(text: str) -> str:
    return "".join(f"\\{c}" if c in "\\`*_[]<>#|~$" else c for c in text)
