"""Settings every model API shares, read from unprefixed environment variables.

Model-specific settings live next to each model (``DETECTION_*``, ``DEPTH_*``).
"""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class CoreSettings(BaseSettings):
    """HTTP, limits and serving settings of one API process (documented in docs/api.md)."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    path_prefix: str | None = Field(
        default=None,
        description="Prefix the load balancer routes to this service (e.g. /yoloapi); routes are "
        "served both at the root and under it. Default: the service's entry in delivery/routes.py.",
    )
    device: str = Field(default="auto", description="auto (CUDA if present, else CPU), cpu, cuda, cuda:0 ...")
    max_upload_mb: float = Field(default=16.0, gt=0, description="Largest accepted image upload, in MB.")
    max_pixels: int = Field(
        default=40_000_000, gt=0, description="Largest accepted image, in pixels (decompression-bomb guard)."
    )
    cors_origins: str = Field(default="*", description="Comma-separated origins allowed by CORS, or *.")
    log_level: str = Field(default="INFO", description="Python logging level.")
    torch_threads: int = Field(default=0, ge=0, description="torch intra-op threads; 0 = one per core.")
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
