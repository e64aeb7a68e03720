"""API keys: an optional check of the ``X-API-Key`` header in front of every route but health.

Off unless ``API_KEYS`` holds at least one key, so ``make run`` and local clients need none. On AWS the
keys reach the container as an ECS secret read from SSM Parameter Store (never in the task
definition's environment or in Terraform state). Several comma-separated keys are accepted at once, so
a key can be rotated without downtime: add the new one, move the clients, remove the old one.

Left open: the health route (load balancer and container health checks carry no key) and CORS
preflight requests (browsers never send custom headers on ``OPTIONS``).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterable, Mapping

from flask import Flask, current_app, jsonify, request

API_KEYS_ENV = "API_KEYS"
API_KEY_HEADER = "X-API-Key"
# Shorter keys are refused when the app starts: they could be guessed.
MIN_KEY_LENGTH = 16
UNAUTHORIZED = "unauthorized"


class ApiKeys:
    """The accepted keys; compare every one in constant time so timing reveals nothing."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._keys = [key.encode() for key in keys]
        short = [index for index, key in enumerate(self._keys) if len(key) < MIN_KEY_LENGTH]
        if short:
            raise ValueError(
                f"{API_KEYS_ENV}: key(s) at position {short} are shorter than {MIN_KEY_LENGTH} characters"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ApiKeys:
        """Keys from ``API_KEYS`` (comma- or newline-separated); none when unset or empty."""
        raw = (os.environ if environ is None else environ).get(API_KEYS_ENV, "")
        return cls(key.strip() for key in raw.replace("\n", ",").split(",") if key.strip())

    @property
    def required(self) -> bool:
        """True when at least one key is configured."""
        return bool(self._keys)

    def accepts(self, candidate: str | None) -> bool:
        """Whether ``candidate`` is one of the keys (no early exit: each key is compared)."""
        given = (candidate or "").encode()
        matched = False
        for key in self._keys:
            matched |= hmac.compare_digest(given, key)
        return matched


def init_app(app: Flask, health_paths: Iterable[str], keys: ApiKeys | None = None) -> None:
    """Refuse requests without a valid key (401 JSON) when keys are configured; else do nothing."""
    keys = keys or ApiKeys.from_env()
    if not keys.required:
        return
    app.extensions["api_keys"] = keys
    open_paths = frozenset(health_paths)

    @app.before_request
    def _require_api_key():
        if request.method == "OPTIONS" or request.path in open_paths:
            return None
        if current_app.extensions["api_keys"].accepts(request.headers.get(API_KEY_HEADER)):
            return None
        body = {
            "success": False,
            "error": f"a valid {API_KEY_HEADER} header is required",
            "code": UNAUTHORIZED,
        }
        return jsonify(body), 401, {"WWW-Authenticate": f'ApiKey header="{API_KEY_HEADER}"'}
