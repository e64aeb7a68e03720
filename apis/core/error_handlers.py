"""Every error an app answers is JSON: our own :class:`ApiError`, Werkzeug's (404, 405, 413...), and 500s."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from apis.core.errors import ApiError, ErrorCode

log = logging.getLogger("apis.core.errors")

# Werkzeug's own HTTP errors (raised before our views run) mapped onto our machine codes.
_HTTP_CODES = {
    400: ErrorCode.BAD_REQUEST,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    429: ErrorCode.TOO_MANY_REQUESTS,
    503: ErrorCode.UNAVAILABLE,
}


def _render(error: ApiError):
    response = jsonify(error.to_dict())
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def register_error_handlers(app: Flask) -> None:
    """Make every error JSON: our own, Werkzeug's (404, 405, 413...) and unexpected ones (500)."""

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        return _render(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        status = error.code or 500
        if status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            message = f"request body is larger than the limit of {limit} bytes"
        else:
            message = error.description or error.name
        # Keep Werkzeug's headers (405 must say which methods are allowed: Allow, RFC 9110).
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        return _render(
            ApiError(
                message, code=_HTTP_CODES.get(status, ErrorCode.HTTP_ERROR), status=status, headers=headers
            )
        )

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error")
        return _render(ApiError("internal server error", code=ErrorCode.INTERNAL_ERROR, status=500))
