"""The sign-out handler's answer in a real Chromium: the session cookie shards go, other cookies stay.

A local server stands in for the load balancer: ``/login`` sets the shards the way the load balancer
does (``Path=/; Secure; HttpOnly``, host-only), ``/signout`` relays what the handler answers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cdktf_app.sign_out.handler import handler
from tests.support.browser import launched_chromium

pytestmark = pytest.mark.browser
SHARDS = 3


class FakeLoadBalancer(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path == "/login":
            cookies = [
                f"ObjdepthSignIn-{n}=part{n}; Max-Age=3600; Path=/; Secure; HttpOnly" for n in range(SHARDS)
            ]
            self._answer(200, {"Set-Cookie": [*cookies, "unrelated=keep; Path=/"]}, "signed in")
            return
        if self.path == "/signout":
            event = {
                "httpMethod": "GET",
                "path": self.path,
                "multiValueHeaders": {name.lower(): [value] for name, value in self.headers.items()},
            }
            env = {
                "SESSION_COOKIE": "ObjdepthSignIn",
                "SIGNED_OUT_URL": f"{base}/signed-out",
                "IDP_LOGOUT_URL": "",
            }
            response = handler(event, environ=env)
            self._answer(response["statusCode"], response["multiValueHeaders"], response["body"])
            return
        self._answer(200, {}, "signed out")

    def _answer(self, status: int, headers: dict[str, list[str]], body: str) -> None:
        self.send_response(status)
        for name, values in headers.items():
            for value in values:
                self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body.encode())


@pytest.fixture()
def load_balancer() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeLoadBalancer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_chromium_drops_every_session_shard_and_lands_on_the_signed_out_page(load_balancer: str) -> None:
    with launched_chromium() as browser:
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{load_balancer}/login")
        names = sorted(cookie["name"] for cookie in context.cookies())
        assert names == [*(f"ObjdepthSignIn-{n}" for n in range(SHARDS)), "unrelated"]
        page.goto(f"{load_balancer}/signout")
        assert page.url == f"{load_balancer}/signed-out"
        assert [cookie["name"] for cookie in context.cookies()] == ["unrelated"]
