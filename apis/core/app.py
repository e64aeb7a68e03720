"""The app factory both APIs use: routes at the root and under the prefix, health, metrics, errors."""

from __future__ import annotations

import logging
import time
import uuid
from importlib.metadata import PackageNotFoundError, version

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request, send_from_directory
from flask_cors import CORS
from prometheus_client import CONTENT_TYPE_LATEST

from apis.core import auth
from apis.core.connections import register_connection_hygiene
from apis.core.emf import EmfPublisher
from apis.core.error_handlers import register_error_handlers
from apis.core.errors import ErrorCode
from apis.core.logs import configure_logging
from apis.core.metrics import ApiMetrics
from apis.core.openapi import DOCS_PAGE, build_spec, endpoint, swagger_assets_dir
from apis.core.predict_route import predict_blueprint
from apis.core.schemas import HealthResponse, ModelInfoResponse
from apis.core.service import InferenceGate, ModelHost, ModelService, ModelState, current_host
from apis.core.settings import CoreSettings

log = logging.getLogger("apis.access")

# Multipart framing around the image; the image itself is checked against the exact limit.
_MULTIPART_SLACK_BYTES = 256 * 1024


def create_app(
    service: ModelService, settings: CoreSettings | None = None, *, load_in_background: bool = True
) -> Flask:
    """Build the Flask app for ``service`` and start loading its model.

    ``load_in_background`` keeps the worker answering (``/health`` 503) while weights load;
    tests pass ``False`` to get a ready app.
    """
    settings = settings or CoreSettings()
    configure_logging(settings.log_level)
    prefix = settings.path_prefix if settings.path_prefix is not None else service.route.path_prefix

    app = Flask(f"apis.{service.route.name}", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes + _MULTIPART_SLACK_BYTES
    # Text fields are bounded by the form models, which name the field; Werkzeug's own per-part
    # limit (500 kB) would answer an anonymous 413 first.
    app.config["MAX_FORM_MEMORY_SIZE"] = app.config["MAX_CONTENT_LENGTH"]
    app.config["JSON_SORT_KEYS"] = False
    app.json.sort_keys = False
    app.extensions["settings"] = settings
    app.extensions["path_prefix"] = prefix
    max_queue_wait_s = settings.max_queue_wait_s or service.max_queue_wait_s
    gate = InferenceGate(
        settings.max_waiting,
        settings.queue_timeout_s,
        max_queue_wait_s=max_queue_wait_s,
        overload_pause_s=settings.overload_pause_s,
    )
    host = ModelHost(service, gate)
    app.extensions["model_host"] = host
    metrics = ApiMetrics(service.route.name)
    metrics.waiting.set_function(lambda: host.gate.waiting)
    metrics.ready.set_function(lambda: 1.0 if host.state is ModelState.READY else 0.0)
    app.extensions["metrics"] = metrics
    if settings.metrics_emf_interval_s:
        app.extensions["emf"] = EmfPublisher(
            metrics.registry,
            service=service.route.name,
            namespace=settings.metrics_emf_namespace,
            interval_s=settings.metrics_emf_interval_s,
        ).start()

    CORS(app, origins=settings.cors_origin_list, expose_headers=["X-Request-ID", "Retry-After"])
    register_error_handlers(app)
    _register_request_logging(app, metrics)
    auth.init_app(app, health_paths=("/health", f"{prefix}/health"))
    _register_admission(app, gate)
    register_connection_hygiene(app)

    for blueprint in (_common_blueprint(), predict_blueprint(service)):
        app.register_blueprint(blueprint)
        if prefix:
            app.register_blueprint(blueprint, url_prefix=prefix, name=f"{blueprint.name}_prefixed")

    host.start(background=load_in_background)
    return app


def _common_blueprint() -> Blueprint:
    blueprint = Blueprint("common", __name__)
    not_ready = {503: (ErrorCode.MODEL_LOADING, ErrorCode.MODEL_FAILED)}

    @blueprint.get("/health")
    @endpoint(
        summary="Readiness: 200 once the model is loaded and warm, 503 before",
        tag="operations",
        response=HealthResponse,
        also_ok=(503,),
    )
    def health():
        host = current_host()
        body = {
            "status": "ok" if host.state is ModelState.READY else host.state.value,
            "service": host.service.route.name,
        }
        if host.state is ModelState.READY:
            body["load_seconds"] = round(host.load_seconds or 0.0, 2)
            return jsonify(body)
        if host.error:
            body["error"] = host.error
        return jsonify(body), 503

    @blueprint.get("/model-info")
    @endpoint(
        summary="The loaded model: weights, classes or semantics, device, defaults",
        tag="operations",
        response=ModelInfoResponse,
        errors=not_ready,
    )
    def model_info():
        host = current_host()
        host.require_ready()
        return jsonify({"success": True, "service": host.service.route.name, **host.service.info()})

    @blueprint.get("/metrics")
    @endpoint(summary="Prometheus metrics of this worker", tag="operations", response_media_type="text/plain")
    def metrics():
        return Response(current_app.extensions["metrics"].render(), mimetype=CONTENT_TYPE_LATEST)

    @blueprint.get("/openapi.json")
    @endpoint(summary="This OpenAPI description", tag="documentation")
    def openapi_json():
        return jsonify(openapi_document(current_app))

    @blueprint.get("/docs")
    @endpoint(
        summary="Interactive API documentation (Swagger UI, served offline)",
        tag="documentation",
        response_media_type="text/html",
    )
    def docs():
        base = request.path[: -len("/docs")]
        title = openapi_document(current_app)["info"]["title"]
        return Response(DOCS_PAGE.format(base=base, title=title), mimetype="text/html")

    @blueprint.get("/docs/swagger/<path:filename>")
    @endpoint(
        summary="Swagger UI's own files",
        tag="documentation",
        response_media_type="text/plain",
        errors={404: (ErrorCode.NOT_FOUND,)},
    )
    def docs_assets(filename: str):
        return send_from_directory(swagger_assets_dir(), filename, max_age=86400)

    return blueprint


def openapi_document(app: Flask) -> dict:
    """The app's OpenAPI description, built from its routes and schemas (cached once the model is ready)."""
    if "openapi" in app.extensions:
        return app.extensions["openapi"]
    host: ModelHost = app.extensions["model_host"]
    service = host.service
    try:
        package_version = version("objdepth")
    except PackageNotFoundError:
        package_version = "0.0.0"
    document = build_spec(
        app,
        title=f"objdepth {service.route.name} API",
        version=package_version,
        description=(service.__doc__ or "").strip(),
        field_schemas=service.field_schemas() if host.state is ModelState.READY else {},
    )
    if host.state is ModelState.READY:
        app.extensions["openapi"] = document
    return document


def _register_admission(app: Flask, gate: InferenceGate) -> None:
    """Admit every model request (each POST route calls the model) before its body is read or decoded."""

    @app.before_request
    def _admit():
        if request.method == "POST" and request.url_rule is not None:
            gate.admit()

    @app.teardown_request
    def _release(_error):
        gate.release()


def _register_request_logging(app: Flask, metrics: ApiMetrics) -> None:
    @app.before_request
    def _start():
        g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex[:16]
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response):
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        metrics.requests.labels(
            endpoint=endpoint, method=request.method, status=str(response.status_code)
        ).inc()
        metrics.latency.labels(endpoint=endpoint).observe(elapsed)
        if response.status_code >= 400 and response.is_json:
            code = (response.get_json(silent=True) or {}).get("code", "unknown")
            metrics.errors.labels(code=code).inc()
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if not request.path.endswith(("/health", "/metrics")):
            log.info("%s %s %s %.1fms", request.method, request.path, response.status_code, elapsed * 1000)
        return response
