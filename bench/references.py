"""Reference servers for side-by-side benchmarks: the same model file, without this project's serving core.

Both call the project's own model classes (so the model file, backend and pre/post-processing are
identical) and answer a small JSON:

- ``flask_app()``: a minimal Flask app, the model called in the request, served by gunicorn with one
  sync worker and one thread (``gunicorn -w 1 --threads 1 'bench.references:flask_app()'``);
- ``python -m bench.references --port N``: LitServe 0.2.19 with its defaults.

The service and model come from the same environment variables as the APIs (``BENCH_SERVICE`` is
``detection`` or ``depth``).
"""

from __future__ import annotations

import argparse
import io
import os
from collections.abc import Callable
from typing import Any

import litserve as ls
from PIL import Image


def load_model() -> Callable[[Image.Image], dict[str, Any]]:
    """The model of ``BENCH_SERVICE`` built from its ``DETECTION_*``/``DEPTH_*`` settings: image -> JSON."""
    if os.environ["BENCH_SERVICE"] == "detection":
        from apis.detection.backends import create_detector
        from apis.detection.settings import DetectionSettings

        detector = create_detector(DetectionSettings(), device="cpu")
        detector.load()
        params = detector.default_params()
        return lambda image: {"detections": [d.to_dict() for d in detector.predict(image, params).detections]}
    from apis.depth.backends import create_estimator
    from apis.depth.settings import DepthSettings

    estimator = create_estimator(DepthSettings(), device="cpu")
    estimator.load()

    def depth(image: Image.Image) -> dict[str, Any]:
        values = estimator.predict(image).depth
        return {"shape": list(values.shape), "min": float(values.min()), "max": float(values.max())}

    return depth


def decode(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def flask_app():
    """The minimal Flask reference: decode, predict, answer, all in the request."""
    from flask import Flask, jsonify, request

    app = Flask("reference")
    predict = load_model()

    @app.post("/predict")
    def predict_route():
        return jsonify(predict(decode(request.files["image"].read())))

    @app.get("/health")
    def health():
        return "ok"

    return app


class ReferenceApi(ls.LitAPI):
    """The LitServe reference: the same model, LitServe's hooks."""

    def setup(self, device):
        self.predict_image = load_model()

    def decode_request(self, request):
        return decode(request["image"].file.read())

    def predict(self, image):
        return self.predict_image(image)

    def encode_response(self, output):
        return output


def serve_litserve(port: int) -> None:
    """LitServe with its defaults (one worker, no batching) on 127.0.0.1:``port``."""
    ls.LitServer(ReferenceApi(), accelerator="cpu").run(
        host="127.0.0.1", port=port, generate_client_file=False
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    serve_litserve(parser.parse_args().port)
