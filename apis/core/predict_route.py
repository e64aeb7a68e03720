"""The one POST route of a model service, owned by the core and calling the service's hooks in one pass.

readiness → fields → image → ``decode_request`` → gate + model thread (``predict``) →
``encode_response`` → ``timing_ms`` → metrics → response schema → JSON. Errors anywhere become
the core's JSON errors; the service sees typed values only.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify

from apis.core import requests as fields
from apis.core.hooks import ModelService, StageTimer
from apis.core.memory import release_free_memory
from apis.core.openapi import UPLOAD_ERRORS, Endpoint
from apis.core.service import current_host

#: Photos from this size on (2 megapixels, 6 MB decoded) leave freed buffers worth returning.
LARGE_PHOTO_PIXELS = 2_000_000


def predict_blueprint(service: ModelService) -> Blueprint:
    """A blueprint with ``POST service.predict_path`` (documented in OpenAPI) and the service's extras."""
    blueprint = Blueprint(service.route.name, __name__)

    def view():
        response = jsonify(handle_predict(service))
        if getattr(g, "large_photo", False):
            # After the answer is sent and the photo freed: its buffers' pages go back to the system.
            response.call_on_close(release_free_memory)
        return response

    view.openapi = Endpoint(  # type: ignore[attr-defined]
        summary=service.predict_summary,
        form=service.form,
        upload_field="image",
        response=service.response,
        errors=UPLOAD_ERRORS,
    )
    endpoint_name = service.predict_path.strip("/").replace("/", "_") or "predict"
    blueprint.add_url_rule(service.predict_path, endpoint_name, view, methods=["POST"])
    extra = service.extra_routes()
    if extra is not None:
        blueprint.register_blueprint(extra)
    return blueprint


def handle_predict(service: ModelService) -> dict[str, Any]:
    """One request through the hooks; returns the JSON body (already checked against the schema)."""
    timer = StageTimer()
    host = current_host()
    host.require_ready()
    form = fields.read_fields(service.form, context=service.form_context())
    image = fields.read_image(current_app.extensions["settings"])
    g.large_photo = image.image.width * image.image.height >= LARGE_PHOTO_PIXELS
    inputs = service.decode_request(form, image)
    timer.add("decode", timer.since_start_ms())

    output, waited_s = service.run_model(
        inputs,
        lambda: host.infer(lambda: service.predict(inputs)),
        current_app.extensions["metrics"].cache_lookups,
    )
    timer.add("queue", waited_s * 1000)
    timer.merge(getattr(output, "timing_ms", None) or {})

    body = service.encode_response(inputs, output, timer)
    body["timing_ms"] = timer.finish()
    current_app.extensions["metrics"].observe_stages(body["timing_ms"])
    # Answer through the documented schema: the keys sent are exactly those the service set.
    return service.response.model_validate(body).model_dump(mode="json", exclude_unset=True)
