"""What each API's benchmark runs: the model built at full size, and how to call it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from apis.routes import DEPTH, DETECTION, ServiceRoute

CACHE = Path("~/.cache/objdepth/bench").expanduser()
IMAGES = Path(__file__).resolve().parents[2] / "shared" / "images"
MAIN_IMAGE = IMAGES / "bus.jpg"
MIXED_IMAGES = [IMAGES / name for name in ("bus.jpg", "zidane.jpg", "demo08.jpg", "TEST.jpg")]


@dataclass
class Suite:
    """One API under test."""

    name: str
    route: ServiceRoute
    wsgi: str
    endpoint: str
    env: dict[str, str]
    #: Loads the model in this process and returns a zero-argument call of one prediction.
    load_inprocess: Callable[[], Callable[[], object]]
    form: dict[str, str] = field(default_factory=dict)
    soak_requests: int = 2000


def detection_weights() -> Path:
    """yolo11n architecture with random weights (built once): the same compute as the real model."""
    from apis.detection.demo import build_random_yolo

    weights = CACHE / "yolo11n-random.pt"
    if not weights.exists():
        build_random_yolo(weights, [Image.open(MAIN_IMAGE)])
    return weights


def detection_suite() -> Suite:
    """YOLO through POST /detect."""
    weights = detection_weights()

    def load():
        from apis.detection.model import YoloDetector
        from apis.detection.settings import DetectionSettings

        detector = YoloDetector(DetectionSettings(weights=str(weights), allow_download=False), device="cpu")
        detector.load()
        image = Image.open(MAIN_IMAGE).convert("RGB")
        params = detector.default_params()
        return lambda: detector.predict(image, params)

    return Suite(
        name="detection",
        route=DETECTION,
        wsgi="apis.detection.wsgi:app",
        endpoint="/yoloapi/detect",
        env={"DETECTION_WEIGHTS": str(weights), "DETECTION_ALLOW_DOWNLOAD": "false"},
        load_inprocess=load,
    )


def bus_detections() -> list[dict]:
    """What the detection API returns for bus.jpg with the benchmark's random YOLO (top 8 boxes)."""
    from apis.detection.model import YoloDetector
    from apis.detection.settings import DetectionSettings

    detector = YoloDetector(
        DetectionSettings(weights=str(detection_weights()), allow_download=False), device="cpu"
    )
    detector.load()
    prediction = detector.predict(Image.open(MAIN_IMAGE).convert("RGB"), detector.default_params())
    return [d.to_dict() for d in prediction.detections[:8]]


def depth_suite() -> Suite:
    """Depth Anything V2 Small architecture (24.8 M parameters) with random weights."""
    from apis.depth.demo import build_random_depth_anything

    folder = CACHE / "depth-anything-v2-small-random"
    if not (folder / "config.json").exists():
        build_random_depth_anything(folder)

    def load():
        from apis.depth.model import DepthEstimator
        from apis.depth.settings import DepthSettings

        estimator = DepthEstimator(DepthSettings(model=str(folder), allow_download=False), device="cpu")
        estimator.load()
        image = Image.open(MAIN_IMAGE).convert("RGB")
        return lambda: estimator.predict(image)

    return Suite(
        name="depth",
        route=DEPTH,
        wsgi="apis.depth.wsgi:app",
        endpoint="/depthapi/predict_depth",
        env={"DEPTH_MODEL": str(folder), "DEPTH_ALLOW_DOWNLOAD": "false"},
        load_inprocess=load,
        form={"detections": json.dumps(bus_detections()), "include_images": "false"},
        soak_requests=200,
    )


SUITES: dict[str, Callable[[], Suite]] = {"detection": detection_suite, "depth": depth_suite}
