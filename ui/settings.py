"""Web UI settings, read from environment variables (documented in the README).

Streamlit's own options (port, upload limit, XSRF, cookie secret) are not here: they live in
``ui/.streamlit/config.toml`` and Streamlit's ``STREAMLIT_*`` variables
(e.g. ``STREAMLIT_SERVER_COOKIE_SECRET``, which must be equal on every replica).
"""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from delivery.routes import DEPTH, DETECTION, ServiceRoute

# The APIs accept 16 MB images; the page refuses bigger ones before calling them.
MAX_UPLOAD_MB = 16
# The same decompression-bomb guard as the APIs' default MAX_PIXELS.
MAX_PIXELS = 40_000_000


def local_url(route: ServiceRoute, host: str = "127.0.0.1") -> str:
    """Base URL of an API run on this machine (``make run``), prefix included."""
    return f"http://{host}:{route.port}{route.path_prefix}"


def _seconds(default: float, variable: str, what: str):
    """A positive number of seconds read from ``variable``."""
    return Field(default=default, gt=0, validation_alias=variable, description=f"Seconds {what}.")


class UiSettings(BaseSettings):
    """Where the APIs are and how long to wait for them."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    detection_api_url: str = Field(
        default=local_url(DETECTION),
        description="Base URL of the detection API, path prefix included (POST <url>/detect).",
    )
    depth_api_url: str = Field(
        default=local_url(DEPTH),
        description="Base URL of the depth API, path prefix included (POST <url>/predict_depth).",
    )
    connect_timeout_s: float = _seconds(3.0, "UI_CONNECT_TIMEOUT_S", "to wait for a connection to an API")
    detection_timeout_s: float = _seconds(30.0, "UI_DETECTION_TIMEOUT_S", "to wait for a detection answer")
    depth_timeout_s: float = _seconds(
        60.0, "UI_DEPTH_TIMEOUT_S", "to wait for a depth answer (the slow model)"
    )
    api_keys: str = Field(
        default="",
        validation_alias="API_KEYS",
        description="The APIs' keys when they check them (public_apis on AWS); the page sends the first.",
    )
    demo: bool = Field(
        default=False,
        validation_alias="OBJDEPTH_DEMO",
        description="The APIs run random-weight demo models: show a banner that results are meaningless.",
    )

    @field_validator("detection_api_url", "depth_api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value
