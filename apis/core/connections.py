"""Connection hygiene: an error never spoils a keep-alive connection; a doubled slash is still served.

gunicorn (27) drains at most 64 KiB of a request body the app left unread and then closes the
connection without saying so in the response, so a client that reuses it (every HTTP library
keeps connections alive) loses its next request. Errors answered before the upload is read (an
overflow 503, an unsupported ``Content-Type``, an unknown path, a body over the size limit) would
leave the body unread: the app reads and discards it instead, up to :data:`DRAIN_LIMIT_BYTES`.

Werkzeug merges doubled slashes with a 308 redirect, which a POST client (or a browser behind a
proxy) does not follow; a client whose base URL ends in a slash sends ``/yoloapi//detect``. The
path is collapsed before routing instead, so the request is simply served.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, request

log = logging.getLogger(__name__)

#: Largest unread body discarded to keep the connection (a bigger one lets gunicorn close it).
DRAIN_LIMIT_BYTES = 64 * 2**20
_CHUNK_BYTES = 256 * 1024
_SLASHES = re.compile(r"/{2,}")


def register_connection_hygiene(app: Flask) -> None:
    """Collapse doubled slashes before routing and drain unread request bodies after each response."""
    app.wsgi_app = CollapseSlashes(app.wsgi_app)

    @app.after_request
    def _drain(response):
        drain_unread_body()
        return response


class CollapseSlashes:
    """WSGI middleware: ``/yoloapi//detect`` is routed as ``/yoloapi/detect``."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if "//" in path:
            environ["PATH_INFO"] = _SLASHES.sub("/", path)
        return self.wsgi_app(environ, start_response)


def drain_unread_body() -> None:
    """Read and discard the rest of the current request body (bounded): the connection stays usable."""
    declared = request.content_length
    limit = request.max_content_length
    try:
        if declared is not None and limit is not None and declared > limit:
            # Over the app's limit, so Werkzeug never read it (it refused it with a 413).
            if declared <= DRAIN_LIMIT_BYTES:
                _discard(request.environ["wsgi.input"], declared)
            return
        _discard(request.stream, None)
    except Exception as exc:  # a client that went away, a broken chunked body: gunicorn closes the connection
        log.debug("request body not drained: %s", exc)


def _discard(stream: Any, size: int | None) -> None:
    remaining = DRAIN_LIMIT_BYTES if size is None else size
    while remaining > 0:
        chunk = stream.read(min(_CHUNK_BYTES, remaining))
        if not chunk:
            return
        remaining -= len(chunk)
