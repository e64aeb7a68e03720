"""Settings every model API shares, read from unprefixed environment variables.

Model-specific settings live next to each model (``DETECTION_*``, ``DEPTH_*``).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: What DEVICE accepts; the runtimes (apis/runtimes/device.py) decide what it means.
DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


class CoreSettings(BaseSettings):
    """HTTP, limits and serving settings of one API process (documented in docs/api.md)."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    path_prefix: str | None = Field(
        default=None,
        description="Prefix the load balancer routes to this service (e.g. /yoloapi); routes are "
        "served both at the root and under it. Default: the service's entry in delivery/routes.py.",
    )
    device: str = Field(
        default="auto",
        description="auto (CUDA if the runtime can use it, else CPU), cpu, cuda, cuda:N; an explicit CUDA "
        "device that cannot be used fails the start.",
    )
    half: Literal["auto", "true", "false"] = Field(
        default="auto",
        description="fp16 inference of the torch backend: auto = on CUDA only, true = always (CUDA only), "
        "false = never.",
    )
    max_upload_mb: float = Field(default=16.0, gt=0, description="Largest accepted image upload, in MB.")
    max_pixels: int = Field(
        default=40_000_000, gt=0, description="Largest accepted image, in pixels (decompression-bomb guard)."
    )
    cors_origins: str = Field(default="*", description="Comma-separated origins allowed by CORS, or *.")
    log_level: str = Field(default="INFO", description="Python logging level.")
    torch_threads: int = Field(
        default=0,
        ge=0,
        description="Intra-op CPU threads of the model (torch and ONNX Runtime); 0 = one per core on "
        "the CPU, none pinned on CUDA.",
    )
    max_queue_wait_s: float | None = Field(
        default=None,
        gt=0,
        description="Wait budget per request: a request is admitted when the model time of the requests "
        "ahead of it and its own (their measured mean) fits in it, else 503 + Retry-After. Default: the "
        "service's (detection 2 s, depth 10 s).",
    )
    max_waiting: int = Field(
        default=48,
        ge=0,
        description="Memory safety: most requests admitted to wait for the model per worker, whatever "
        "the budget; beyond it 503.",
    )
    overload_pause_s: float = Field(
        default=1.0,
        ge=0,
        le=10,
        description="A request refused by admission is answered after this pause, so that clients "
        "retrying at once cannot take the cores from the model.",
    )
    queue_timeout_s: float = Field(
        default=30.0, gt=0, description="Safety net: how long an admitted request may wait for the model."
    )
    metrics_emf_interval_s: float = Field(
        default=0.0, ge=0, description="Seconds between EMF metric lines on stdout (CloudWatch); 0 = off."
    )
    metrics_emf_namespace: str = Field(
        default="objdepth", description="CloudWatch namespace of the EMF metrics."
    )

    @field_validator("half", mode="before")
    @classmethod
    def _lower_half(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("device")
    @classmethod
    def _check_device(cls, value: str) -> str:
        value = value.strip().lower()
        if not DEVICE_PATTERN.match(value):
            raise ValueError("DEVICE must be auto, cpu, cuda or cuda:N (e.g. cuda:1)")
        return value

    @field_validator("path_prefix")
    @classmethod
    def _normalise_prefix(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if value and not value.startswith("/"):
            raise ValueError("PATH_PREFIX must start with '/' (e.g. /yoloapi)")
        return value

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def cors_origin_list(self) -> list[str] | str:
        origins = [o.strip() for o in self.cors_origins.split(",") if o.strip()]
        return "*" if origins in ([], ["*"]) else origins
