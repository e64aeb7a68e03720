"""One exception type for every client-facing error, and the handlers that render it as JSON."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ErrorCode(StrEnum):
    """Every machine-readable ``code`` an error response can carry."""

    BAD_REQUEST = "bad_request"
    MISSING_IMAGE = "missing_image"
    EMPTY_IMAGE = "empty_image"
    INVALID_IMAGE = "invalid_image"
    TRUNCATED_IMAGE = "truncated_image"
    UNSUPPORTED_FORMAT = "unsupported_format"
    INVALID_PARAMETER = "invalid_parameter"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    IMAGE_TOO_LARGE = "image_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    TOO_MANY_REQUESTS = "too_many_requests"
    UNAVAILABLE = "unavailable"
    MODEL_LOADING = "model_loading"
    MODEL_FAILED = "model_failed"
    OVERLOADED = "overloaded"
    QUEUE_TIMEOUT = "queue_timeout"
    HTTP_ERROR = "http_error"
    INTERNAL_ERROR = "internal_error"


# Werkzeug's own HTTP errors (raised before our views run) mapped onto our machine codes.
_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    503: "unavailable",
}


class ApiError(Exception):
    """An error a client caused or must know about, rendered as ``{"success": false, ...}``."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "bad_request",
        status: int = 400,
        headers: dict[str, str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.headers = headers or {}
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        """The JSON body: ``success``, ``error`` (for people), ``code`` (for programs), extras."""
        return {"success": False, "error": self.message, "code": self.code, **self.details}


def invalid_parameter(field: str, message: str) -> ApiError:
    """A 400 for a form or query field that is present but unusable."""
    return ApiError(f"{field}: {message}", code="invalid_parameter", details={"field": field})


class ServiceUnavailable(ApiError):
    """503 with ``Retry-After``: the model is not ready, or too many requests are waiting."""

    def __init__(self, message: str, *, code: str = "unavailable", retry_after_s: int = 1) -> None:
        super().__init__(message, code=code, status=503, headers={"Retry-After": str(retry_after_s)})


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
            ApiError(message, code=_HTTP_CODES.get(status, "http_error"), status=status, headers=headers)
        )

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error")
        return _render(ApiError("internal server error", code="internal_error", status=500))
