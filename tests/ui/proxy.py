"""An API URL in front of a real one, that the test can make busy, broken or switched off."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import requests


class Proxy:
    """Forwards every request to ``target``, except the scripted answers to the next POSTs.

    ``script`` holds ``(status, headers, body)`` answers, used one per POST; ``off`` makes every
    request (health included) a 503, as a service that went down would answer behind a load balancer.
    """

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.target_root = f"{parts.scheme}://{parts.netloc}"
        self.prefix = parts.path
        self.script: list[tuple[int, dict[str, str], dict]] = []
        self.off = False
        self.posts = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{self.prefix}"

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _answer(self, status: int, headers: dict[str, str], body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def _forward(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else None
                if method == "POST":
                    proxy.posts += 1
                if proxy.off:
                    body = {"success": False, "status": "unavailable", "error": "switched off by the test"}
                    return self._answer(503, {}, json.dumps(body).encode(), "application/json")
                if method == "POST" and proxy.script:
                    status, headers, body = proxy.script.pop(0)
                    return self._answer(status, headers, json.dumps(body).encode(), "application/json")
                kind = {"Content-Type": self.headers["Content-Type"]} if self.headers["Content-Type"] else {}
                answer = requests.request(
                    method, proxy.target_root + self.path, data=data, headers=kind, timeout=120
                )
                self._answer(answer.status_code, {}, answer.content, answer.headers.get("Content-Type", ""))

            def do_GET(self) -> None:
                self._forward("GET")

            def do_POST(self) -> None:
                self._forward("POST")

        return Handler


@contextmanager
def proxy_for(target: str) -> Iterator[Proxy]:
    proxy = Proxy(target)
    thread = threading.Thread(target=proxy.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.server.shutdown()
        proxy.server.server_close()
