"""What each API's benchmark runs: the model built at full size, and how to call it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from PIL import Image

from delivery.routes import DEPTH, DETECTION, ServiceRoute

CACHE = Path("~/.cache/objdepth/bench").expanduser()
IMAGES = Path(__file__).resolve().parents[2] / "shared" / "images"
MAIN_IMAGE = IMAGES / "bus.jpg"
MIXED_IMAGES = [IMAGES / name for name in ("bus.jpg", "zidane.jpg", "demo08.jpg", "TEST.jpg")]


def decode_main_image() -> Image.Image:
    """bus.jpg through the services' own decoder: the in-process work of a request, without HTTP."""
    from apis.core.images import decode_image

    return decode_image(MAIN_IMAGE.read_bytes(), max_bytes=64 * 2**20, max_pixels=10**9).image


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


def _exported(service: str, source: str, export: Callable[[Path, Path], object]) -> dict[str, str]:
    """Export once into the cache (again if the source changed); the environment that serves the file."""
    from apis.runtimes.onnx_manifest import Manifest

    onnx_path = CACHE / "onnx" / f"{service}.onnx"
    manifest_path = onnx_path.with_suffix(".json")
    if not (onnx_path.exists() and manifest_path.exists() and Manifest.read(manifest_path).source == source):
        export(onnx_path, manifest_path)
    prefix = service.upper()
    return {f"{prefix}_BACKEND": "onnx", f"{prefix}_ONNX_PATH": str(onnx_path)}


def detection_suite(backend: str = "torch") -> Suite:
    """YOLO through POST /detect, on the torch or the onnx backend."""
    from apis.detection.settings import DetectionSettings

    weights = detection_weights()
    env = {"DETECTION_WEIGHTS": str(weights), "DETECTION_ALLOW_DOWNLOAD": "false"}
    if backend == "onnx":
        from apis.export.detection import export_detection

        settings = DetectionSettings(weights=str(weights), allow_download=False)
        env |= _exported("detection", str(weights), partial(export_detection, settings))

    def load():
        from apis.detection.backends import create_detector

        settings = DetectionSettings(**{k.removeprefix("DETECTION_").lower(): v for k, v in env.items()})
        detector = create_detector(settings, device="cpu")
        detector.load()
        params = detector.default_params()
        return lambda: detector.predict(decode_main_image(), params)

    return Suite(
        name="detection" if backend == "torch" else f"detection-{backend}",
        route=DETECTION,
        wsgi=DETECTION.wsgi_app,
        endpoint="/yoloapi/detect",
        env=env,
        load_inprocess=load,
    )


def bus_detections() -> list[dict]:
    """What the detection API returns for bus.jpg with the benchmark's random YOLO (top 8 boxes)."""
    from apis.detection.backends import create_detector
    from apis.detection.settings import DetectionSettings

    settings = DetectionSettings(weights=str(detection_weights()), allow_download=False, backend="torch")
    detector = create_detector(settings, device="cpu")
    detector.load()
    prediction = detector.predict(Image.open(MAIN_IMAGE).convert("RGB"), detector.default_params())
    return [d.to_dict() for d in prediction.detections[:8]]


def depth_suite(backend: str = "torch") -> Suite:
    """Depth Anything V2 Small architecture (24.8 M parameters) with random weights, torch or onnx."""
    from apis.depth.demo import build_random_depth_anything
    from apis.depth.settings import DepthSettings

    folder = CACHE / "depth-anything-v2-small-random"
    if not (folder / "config.json").exists():
        build_random_depth_anything(folder)
    # The depth-map cache off: the load repeats one photo, which the cache would answer without the
    # model (17 ms instead of 630 ms measured), so the comparison would be of the cache, not of serving.
    env = {"DEPTH_MODEL": str(folder), "DEPTH_ALLOW_DOWNLOAD": "false", "DEPTH_CACHE_ENTRIES": "0"}
    if backend == "onnx":
        from apis.export.depth import export_depth

        settings = DepthSettings(model=str(folder), allow_download=False)
        env |= _exported("depth", str(folder), partial(export_depth, settings))

    def load():
        from apis.depth.backends import create_estimator

        settings = DepthSettings(**{k.removeprefix("DEPTH_").lower(): v for k, v in env.items()})
        estimator = create_estimator(settings, device="cpu")
        estimator.load()
        return lambda: estimator.predict(decode_main_image())

    return Suite(
        name="depth" if backend == "torch" else f"depth-{backend}",
        route=DEPTH,
        wsgi=DEPTH.wsgi_app,
        endpoint="/depthapi/predict_depth",
        env=env,
        load_inprocess=load,
        form={"detections": json.dumps(bus_detections()), "include_images": "false"},
        soak_requests=200,
    )


# Each model on both backends; the report puts the pairs side by side.
SUITES: dict[str, Callable[[], Suite]] = {
    "detection": detection_suite,
    "detection-onnx": partial(detection_suite, "onnx"),
    "depth": depth_suite,
    "depth-onnx": partial(depth_suite, "onnx"),
}


#: Photos that were far too costly for depth before the token budget (issue 13), by name and size.
EXTREME_SHAPES = {
    "wide-10000x10": (10_000, 10),
    "tall-10x10000": (10, 10_000),
    "panorama-6000x1000": (6_000, 1_000),
}
#: The largest photo the APIs accept (MAX_PIXELS = 40,000,000).
LARGEST_SHAPE = (7_300, 5_479)


def shaped_photo(name: str, size: tuple[int, int]) -> Path:
    """bus.jpg resized to ``size`` (JPEG, cached): a valid photo of an awkward shape."""
    path = CACHE / "photos" / f"{name}.jpg"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.open(MAIN_IMAGE).convert("RGB").resize(size, Image.Resampling.BILINEAR).save(path, quality=85)
    return path


def soak_photos() -> list[Path]:
    """The mixed soak: the test photos, the extreme shapes and one 40-megapixel photo."""
    extremes = [shaped_photo(name, size) for name, size in EXTREME_SHAPES.items()]
    return [*MIXED_IMAGES, *extremes, shaped_photo("largest-40mp", LARGEST_SHAPE)]
