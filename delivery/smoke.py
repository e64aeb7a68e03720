"""Smoke test through the load balancer: the UI health route and both API health routes answer."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from delivery.routes import SERVICES, ServiceRoute
from delivery.steps import DeliveryError


class SmokeTestFailed(DeliveryError):
    """At least one health route did not answer as expected before the deadline."""


@dataclass(frozen=True)
class RouteResult:
    """The outcome of one request to one health route."""

    route: ServiceRoute
    url: str
    ok: bool
    detail: str


def check_route(base_url: str, route: ServiceRoute, *, timeout_s: float = 10) -> RouteResult:
    """GET the route's health path once; 200 is required, and the body the routes table names (``ok``).

    Streamlit answers every unknown path with 200 and its page, so for the UI only the body
    proves that the health route itself answered.
    """
    url = base_url.rstrip("/") + route.health_path
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            status, body = response.status, response.read(4096).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return RouteResult(route, url, False, f"HTTP {exc.code}")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return RouteResult(route, url, False, f"no answer ({reason})")
    if status != 200:
        return RouteResult(route, url, False, f"HTTP {status}")
    expected = route.health_body
    if expected is not None and body.strip() != expected:
        return RouteResult(route, url, False, f"HTTP 200 but body {body[:60]!r} instead of {expected!r}")
    return RouteResult(route, url, True, "ok")


def smoke_test(
    base_url: str,
    routes: Sequence[ServiceRoute] = SERVICES,
    *,
    timeout_s: float = 300,
    poll_s: float = 10,
    request_timeout_s: float = 10,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[RouteResult]:
    """Check every route until all pass or ``timeout_s`` passes (targets take a while to register).

    Raises :class:`SmokeTestFailed` naming each failing route, its URL and what it answered.
    """
    deadline = clock() + timeout_s
    pending = list(routes)
    passed: list[RouteResult] = []
    while True:
        results = [check_route(base_url, route, timeout_s=request_timeout_s) for route in pending]
        passed += [r for r in results if r.ok]
        failed = [r for r in results if not r.ok]
        for result in results:
            print(f"      {result.route.name:<9} {result.url}: {result.detail}", flush=True)
        if not failed:
            return passed
        remaining = deadline - clock()
        if remaining <= 0:
            raise SmokeTestFailed(
                "health checks failed through the load balancer:\n"
                + "\n".join(f"{r.route.name} ({r.url}): {r.detail}" for r in failed)
            )
        pending = [r.route for r in failed]
        sleep(min(poll_s, remaining))
