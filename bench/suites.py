"""What each API's benchmark runs: the model built at full size, and how to call it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from apis.routes import DETECTION, ServiceRoute

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


def detection_suite() -> Suite:
    """yolo11n architecture with random weights: the same compute as the real model."""
    from apis.detection.demo import build_random_yolo

    weights = CACHE / "yolo11n-random.pt"
    if not weights.exists():
        build_random_yolo(weights, [Image.open(MAIN_IMAGE)])

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


SUITES: dict[str, Callable[[], Suite]] = {"detection": detection_suite}
