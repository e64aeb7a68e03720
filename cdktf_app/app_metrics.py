"""The APIs' own metrics as CloudWatch knows them: names, dimensions and how the tasks publish them.

Each API worker writes its Prometheus metrics to stdout in CloudWatch's embedded metric format
(``apis/core/emf.py``); the container's ``awslogs`` log driver carries them to CloudWatch Logs, which makes
them metrics of ``metrics_namespace``. Names are those of ``/metrics``, labels become dimensions, and every
metric also has the dimension ``service``. The dashboard and the alarms name metrics through this module
only; a test checks every name and label here against a running app's ``/metrics``.
"""

from __future__ import annotations

from http import HTTPStatus

from cdktf_app.config import Settings
from delivery.routes import ServiceRoute

REQUESTS = "api_requests_total"
LATENCY = "api_request_duration_seconds"
STAGE = "api_stage_seconds"
INFERENCE = "model_inference_seconds"
READY = "model_ready"
QUEUE_STAGE = "queue"

# The predict route of each API (``apis/<name>/service.py``'s ``predict_path``; a test keeps them equal).
PREDICT_PATHS = {"detection": "/detect", "depth": "/predict_depth"}

GOOD_STATUS = "200"
SHED_STATUS = "503"
# The 5xx answers other than 503 a Flask/gunicorn worker can give; 503 is deliberate load shedding.
SERVER_ERROR_STATUSES = ("500", "501", "502", "504")
CLIENT_ERROR_STATUSES = tuple(str(status.value) for status in HTTPStatus if 400 <= status.value < 500)


def is_api(route: ServiceRoute) -> bool:
    """Whether the service publishes application metrics (the two model APIs, not the web page)."""
    return route.name in PREDICT_PATHS


def predict_endpoint(route: ServiceRoute) -> str:
    """The ``endpoint`` label of the API's predict route as its clients call it (``/yoloapi/detect``)."""
    return f"{route.path_prefix}{PREDICT_PATHS[route.name]}"


def pipeline_environment(settings: Settings) -> dict[str, str]:
    """Container environment that makes an API worker publish its metrics (read by ``CoreSettings``)."""
    return {
        "METRICS_EMF_INTERVAL_S": str(settings.metrics_publish_interval),
        "METRICS_EMF_NAMESPACE": settings.metrics_namespace,
    }


def dimensions(route: ServiceRoute, **labels: str) -> dict[str, str]:
    """The CloudWatch dimensions of one of the API's series: ``service`` plus the given labels."""
    return {"service": route.name, **labels}
