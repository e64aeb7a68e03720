"""The smoke test names the route that failed (local HTTP servers stand in for the load balancer)."""

import pytest

from delivery.routes import SERVICES
from delivery.smoke import SmokeTestFailed, check_route, smoke_test

FAST = {"timeout_s": 0.3, "poll_s": 0.05, "request_timeout_s": 2}


def test_all_routes_healthy(http_server, healthy_routes):
    base = http_server(healthy_routes)

    results = smoke_test(base + "/", **FAST)

    assert sorted(r.route.name for r in results) == sorted(s.name for s in SERVICES)


@pytest.mark.parametrize(
    ("path", "answer", "name", "detail"),
    [
        ("/yoloapi/health", (503, '{"status": "loading"}'), "detection", "HTTP 503"),
        ("/depthapi/health", (404, "not found"), "depth", "HTTP 404"),
        ("/_stcore/health", (200, "<!doctype html><html>"), "ui", "instead of 'ok'"),
    ],
)
def test_failing_route_is_named(http_server, healthy_routes, path, answer, name, detail):
    base = http_server({**healthy_routes, path: answer})

    with pytest.raises(SmokeTestFailed) as failure:
        smoke_test(base, **FAST)

    lines = str(failure.value).splitlines()[1:]
    assert len(lines) == 1
    assert lines[0].startswith(f"{name} ({base}{path}): ")
    assert detail in lines[0]


def test_route_that_recovers_before_the_deadline_passes(http_server, healthy_routes):
    routes = {**healthy_routes, "/depthapi/health": (503, "loading")}
    base = http_server(routes)
    calls = []

    def sleep(seconds):
        calls.append(seconds)
        routes["/depthapi/health"] = (200, "{}")

    smoke_test(base, timeout_s=30, poll_s=5, request_timeout_s=2, sleep=sleep)

    assert calls == [5]


def test_unreachable_load_balancer_says_so():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = check_route(f"http://127.0.0.1:{port}", SERVICES[0], timeout_s=2)

    assert not result.ok
    assert result.detail.startswith("no answer")
