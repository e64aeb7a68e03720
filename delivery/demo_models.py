"""``make run MODELS=demo``: random-weight models, built offline once and cached, and their environment."""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from delivery.processes import REPO_ROOT, LaunchError, say

SAMPLES_DIR = REPO_ROOT / "ui" / "samples"
DEMO_VERSION = "v1"


def demo_model_paths(cache_dir: Path) -> tuple[Path, Path]:
    """Where demo mode keeps its random YOLO (.pt) and Depth Anything (folder)."""
    root = cache_dir / "demo" / DEMO_VERSION
    return root / "yolo11n-random.pt", root / "depth-anything-v2-small-random"


def _demo_models_ready(cache_dir: Path) -> bool:
    yolo, depth = demo_model_paths(cache_dir)
    return yolo.is_file() and (depth / "config.json").is_file()


def build_demo_models(cache_dir: Path) -> None:
    """Build both random-weight models into ``cache_dir`` (each moved into place when complete)."""
    from PIL import Image

    from apis.depth.demo import build_random_depth_anything
    from apis.detection.demo import build_random_yolo

    yolo, depth = demo_model_paths(cache_dir)
    suffix = f".tmp-{os.getpid()}"
    if not yolo.is_file():
        calibration = [Image.open(path) for path in sorted(SAMPLES_DIR.glob("*.jpg"))]
        partial = build_random_yolo(yolo.with_name(yolo.name + suffix), calibration)
        os.replace(partial, yolo)
    if not (depth / "config.json").is_file():
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        partial = build_random_depth_anything(depth.with_name(depth.name + suffix))
        os.replace(partial, depth)


def prepare_demo(cache_dir: Path) -> dict[str, str]:
    """The environment of demo mode, building the models first if they are not cached yet."""
    yolo, depth = demo_model_paths(cache_dir)
    if not _demo_models_ready(cache_dir):
        say(f"building the demo models once into {yolo.parent} (about a minute) ...")
        started = time.monotonic()
        # In a child process, so the launcher does not keep torch in memory while it supervises.
        try:
            with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
                pool.submit(build_demo_models, cache_dir).result()
        except Exception as exc:
            raise LaunchError(f"could not build the demo models ({type(exc).__name__}: {exc})") from exc
        say(f"demo models ready in {time.monotonic() - started:.0f} s")
    return {
        "DETECTION_WEIGHTS": str(yolo),
        "DETECTION_ALLOW_DOWNLOAD": "false",
        "DEPTH_MODEL": str(depth),
        "DEPTH_ALLOW_DOWNLOAD": "false",
        "HF_HUB_OFFLINE": "1",
        "YOLO_OFFLINE": "1",
        "OBJDEPTH_DEMO": "1",
    }
