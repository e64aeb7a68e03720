"""The one table of services, ports and paths.

The Flask apps (path prefix), the load balancer rules and target groups in
``cdktf_app``, the local launcher behind ``make run`` and ``docker-compose.yml``
all read this module, so they can never disagree.

It lives in ``delivery/`` (how the services are run and shipped), not in ``apis/``: the web UI
reads it too, and the UI image must carry no ``apis`` code. Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceRoute:
    """Where one service listens and how the load balancer reaches it."""

    name: str
    port: int
    path_prefix: str
    health_path: str
    #: ``module:variable`` that gunicorn serves; None for the web page (Streamlit).
    wsgi_app: str | None = None
    #: The body a healthy service answers on ``health_path``; None when any 200 will do.
    health_body: str | None = None

    @property
    def path_pattern(self) -> str:
        """Load balancer path pattern (``/yoloapi/*``); empty for the default route."""
        return f"{self.path_prefix}/*" if self.path_prefix else ""

    @property
    def internal_url(self) -> str:
        """How a neighbour on a private network reaches the service by its name (ECS Service Connect,
        compose): ``http://detection:5001/yoloapi``."""
        return f"http://{self.name}:{self.port}{self.path_prefix}"

    @property
    def is_default_route(self) -> bool:
        """The UI takes every path that no API prefix claims."""
        return not self.path_prefix


DETECTION = ServiceRoute(
    name="detection",
    port=5001,
    path_prefix="/yoloapi",
    health_path="/yoloapi/health",
    wsgi_app="apis.detection.wsgi:app",
)
DEPTH = ServiceRoute(
    name="depth",
    port=5050,
    path_prefix="/depthapi",
    health_path="/depthapi/health",
    wsgi_app="apis.depth.wsgi:app",
)
UI = ServiceRoute(name="ui", port=80, path_prefix="", health_path="/_stcore/health", health_body="ok")

SERVICES: tuple[ServiceRoute, ...] = (DETECTION, DEPTH, UI)


def by_name(name: str) -> ServiceRoute:
    """Return the route of the service called ``name``."""
    for service in SERVICES:
        if service.name == name:
            return service
    raise KeyError(f"unknown service {name!r}; known: {', '.join(s.name for s in SERVICES)}")
