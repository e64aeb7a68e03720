"""One exception type for every client-facing error, and the one enum of their codes.

No web framework here: model code raises these too; :mod:`apis.core.error_handlers` renders them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


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


class ApiError(Exception):
    """An error a client caused or must know about, rendered as ``{"success": false, ...}``."""

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | str = ErrorCode.BAD_REQUEST,
        status: int = 400,
        headers: dict[str, str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = ErrorCode(code)  # a code outside the enum fails here, in the raising code's tests
        self.status = status
        self.headers = headers or {}
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        """The JSON body: ``success``, ``error`` (for people), ``code`` (for programs), extras."""
        return {"success": False, "error": self.message, "code": self.code, **self.details}


def invalid_parameter(field: str, message: str) -> ApiError:
    """A 400 for a form or query field that is present but unusable."""
    return ApiError(f"{field}: {message}", code=ErrorCode.INVALID_PARAMETER, details={"field": field})


class ServiceUnavailable(ApiError):
    """503 with ``Retry-After``: the model is not ready, or too many requests are waiting."""

    def __init__(
        self, message: str, *, code: ErrorCode | str = ErrorCode.UNAVAILABLE, retry_after_s: int = 1
    ) -> None:
        super().__init__(message, code=code, status=503, headers={"Retry-After": str(retry_after_s)})


class ModelLoadError(RuntimeError):
    """The model cannot be loaded; the message says what to do about it (shown by ``/health``)."""
