"""Sign-out at the load balancer: expire its session cookie, then send the browser to the provider's logout.

A Lambda function behind the HTTPS listener's ``/signout`` rule (a target group with multi-value headers on)
runs this. The load balancer keeps a signed-in browser's session in an HttpOnly cookie split over shards
``<SESSION_COOKIE>-0`` … ``-3``; only a response can remove them, which the Streamlit page cannot send.
AWS's advice for signing out is exactly this: expire those cookies and redirect to the identity
provider's logout endpoint, which ends the provider's own session and returns to ``SIGNED_OUT_URL``.

Environment (set by the stack, no secret among them): ``SESSION_COOKIE``, ``SIGNED_OUT_URL``,
``IDP_LOGOUT_URL`` (empty when the provider has no logout endpoint: the browser goes straight to
``SIGNED_OUT_URL``) and ``IDP_LOGOUT_QUERY`` (a JSON object of query parameters to add, for Cognito
``client_id`` and ``logout_uri``). Only the standard library: the function ships as this one file.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# The load balancer splits a session cookie larger than 4 KB over up to 4 shards.
SESSION_COOKIE_SHARDS = 4
_EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"


def expired_cookie(name: str) -> str:
    """A ``Set-Cookie`` value deleting cookie ``name`` as the load balancer set it (host-only, path /)."""
    return f"{name}=; Expires={_EPOCH}; Max-Age=0; Path=/; Secure; HttpOnly"


def session_cookie_names(prefix: str, cookie_headers: Iterable[str]) -> list[str]:
    """Shards ``<prefix>-0`` … ``-3``, plus any further ``<prefix>-N`` the browser sent, in shard order."""
    shard = re.compile(re.escape(prefix) + r"-(\d{1,3})")
    numbers = set(range(SESSION_COOKIE_SHARDS))
    for header in cookie_headers:
        jar = SimpleCookie()
        try:
            jar.load(header)
        except CookieError:
            continue  # a malformed Cookie header still gets the standard shards expired
        numbers.update(int(m.group(1)) for name in jar if (m := shard.fullmatch(name)))
    return [f"{prefix}-{number}" for number in sorted(numbers)]


def logout_location(idp_logout_url: str, query: Mapping[str, str], signed_out_url: str) -> str:
    """The provider's logout URL with ``query`` added (URL-encoded), or ``signed_out_url`` without one."""
    if not idp_logout_url:
        return signed_out_url
    parts = urlsplit(idp_logout_url)
    merged = parse_qsl(parts.query, keep_blank_values=True) + list(query.items())
    return urlunsplit(parts._replace(query=urlencode(merged)))


def _header_values(event: Mapping[str, Any], name: str) -> list[str]:
    """A request header's values from a multi-value event (or a single-value one), names case-blind."""
    values: list[str] = []
    for key, value in (event.get("multiValueHeaders") or {}).items():
        if key.lower() == name:
            values += value
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name and not values:
            values.append(value)
    return values


def handler(
    event: Mapping[str, Any], context: object = None, environ: Mapping[str, str] | None = None
) -> dict:
    """Answer any request with 302 to the logout, each session cookie shard expired."""
    env = os.environ if environ is None else environ
    cookies = session_cookie_names(env["SESSION_COOKIE"], _header_values(event, "cookie"))
    location = logout_location(
        env.get("IDP_LOGOUT_URL", ""), json.loads(env.get("IDP_LOGOUT_QUERY") or "{}"), env["SIGNED_OUT_URL"]
    )
    return {
        "statusCode": 302,
        "statusDescription": "302 Found",
        "isBase64Encoded": False,
        "multiValueHeaders": {
            "Location": [location],
            "Set-Cookie": [expired_cookie(name) for name in cookies],
            "Cache-Control": ["no-store"],
            "Content-Type": ["text/plain; charset=utf-8"],
        },
        "body": "Signing out\n",
    }
