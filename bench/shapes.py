"""Depth of photos of extreme shapes against bus.jpg, in this process: ``python -m bench.shapes``.

The model time of any photo is bounded by the token budget (apis/depth/geometry.py); what is left
to measure is the rest of a prediction: decoding, planning, resizing and the way back to the
photo's size. This loads the depth model of ``make bench`` (the real-size architecture with random
weights; ``--tiny`` the tests' 4-layer model, where everything but the model shows) on one backend,
then times decoding plus prediction of bus.jpg, the extreme shapes and a 40-megapixel photo, the
photos alternated within each repeat, and prints medians and their ratio to bus.jpg.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from PIL import Image

from bench.suites import CACHE, EXTREME_SHAPES, LARGEST_SHAPE, MAIN_IMAGE, depth_suite, shaped_photo

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def tiny_env(backend: str) -> dict[str, str]:
    """The environment of the tests' tiny random Depth Anything (built and exported once, cached)."""
    from apis.depth.demo import build_random_depth_anything
    from apis.depth.settings import DepthSettings

    folder = CACHE / "depth-anything-v2-tiny-random"
    if not (folder / "config.json").exists():
        build_random_depth_anything(folder, tiny=True)
    env = {"DEPTH_MODEL": str(folder), "DEPTH_ALLOW_DOWNLOAD": "false"}
    if backend == "onnx":
        from apis.export.depth import export_depth

        onnx_path = CACHE / "onnx" / "depth-tiny.onnx"
        if not onnx_path.exists():
            settings = DepthSettings(model=str(folder), allow_download=False)
            export_depth(settings, onnx_path, onnx_path.with_suffix(".json"))
        env |= {"DEPTH_BACKEND": "onnx", "DEPTH_ONNX_PATH": str(onnx_path)}
    return env


def load_estimator(backend: str, tiny: bool):
    """The depth model of one backend, loaded and warmed up as a worker does."""
    from apis.depth.backends import create_estimator
    from apis.depth.settings import DepthSettings

    env = tiny_env(backend) if tiny else depth_suite(backend).env
    settings = DepthSettings(**{k.removeprefix("DEPTH_").lower(): v for k, v in env.items()})
    estimator = create_estimator(settings, device="cpu")
    estimator.load()
    return estimator


def photos() -> dict[str, Path]:
    """bus.jpg first, then the shapes of issue 13 and the largest photo the APIs accept."""
    shaped = {**EXTREME_SHAPES, "largest-40mp": LARGEST_SHAPE}
    return {"bus.jpg": MAIN_IMAGE, **{name: shaped_photo(name, size) for name, size in shaped.items()}}


def distinct_copies(path: Path, count: int) -> list[Path]:
    """``count`` copies of a photo whose pixels differ in one corner: each request a depth-cache miss.

    The depth API keeps recent maps by their pixels, so repeating one photo over HTTP would time
    the cache, not the model (bus.jpg after a load test, against shapes seen once).
    """
    copies = []
    for index in range(count):
        copy = CACHE / "photos" / f"{path.stem}-copy{index}.jpg"
        if not copy.exists():
            photo = Image.open(path).convert("RGB")
            photo.putpixel((0, 0), (index * 40, 255 - index * 40, 128))
            copy.parent.mkdir(parents=True, exist_ok=True)
            photo.save(copy, quality=95)
        copies.append(copy)
    return copies


def time_photos(estimator, named: dict[str, Path], repeats: int) -> dict[str, dict[str, list[float]]]:
    """Milliseconds of decoding and of prediction per photo; the photo order rotates per repeat."""
    from apis.core.images import decode_image

    payloads = {name: path.read_bytes() for name, path in named.items()}
    names = list(payloads)
    times: dict[str, dict[str, list[float]]] = {name: {"decode": [], "predict": []} for name in names}
    for repeat in range(repeats):
        for name in names[repeat % len(names) :] + names[: repeat % len(names)]:
            started = time.perf_counter()
            image = decode_image(payloads[name], max_bytes=64 * 2**20, max_pixels=40_000_000).image
            decoded = time.perf_counter()
            estimator.predict(image)
            times[name]["decode"].append((decoded - started) * 1000)
            times[name]["predict"].append((time.perf_counter() - decoded) * 1000)
    return times


def summary(times: dict[str, dict[str, list[float]]]) -> list[str]:
    """A markdown table: medians of decode, predict and both, and both relative to bus.jpg."""
    medians = {
        name: {
            "decode": statistics.median(t["decode"]),
            "predict": statistics.median(t["predict"]),
            "total": statistics.median(d + p for d, p in zip(t["decode"], t["predict"], strict=True)),
        }
        for name, t in times.items()
    }
    bus = medians["bus.jpg"]["total"]
    lines = ["| photo | decode ms | predict ms | total ms | total ÷ bus.jpg |", "|---|---|---|---|---|"]
    for name, m in medians.items():
        lines.append(
            f"| {name} | {m['decode']:.1f} | {m['predict']:.1f} | {m['total']:.1f} | {m['total'] / bus:.2f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["torch", "onnx"], action="append", help="default: both")
    parser.add_argument("--tiny", action="store_true", help="the tests' 4-layer model")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    for backend in args.backend or ["torch", "onnx"]:
        estimator = load_estimator(backend, args.tiny)
        times = time_photos(estimator, photos(), args.repeats)
        model = "tiny" if args.tiny else "real-size"
        print(f"\n{backend} backend, {model} random-weight model, medians of {args.repeats} repeats:")
        print("\n".join(summary(times)), flush=True)


if __name__ == "__main__":
    main()
