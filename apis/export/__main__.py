"""``python -m apis.export [--service detection|depth|all] [--out DIR]`` (``make export``).

Exports the configured weights (DETECTION_WEIGHTS, DEPTH_MODEL) to the ONNX files the onnx backends
load (DETECTION_ONNX_PATH, DEPTH_ONNX_PATH; ``models/onnx/`` by default), each with its manifest.
``--out DIR`` writes into DIR instead, keeping the file names. Needs torch, ultralytics and
transformers (the export stage of the images); serving the files needs none of them.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from apis.core.errors import ModelLoadError
from apis.runtimes.onnx_manifest import Manifest

SERVICES = ("detection", "depth")


def destinations(onnx_path: Path, manifest_path: Path, out: Path | None) -> tuple[Path, Path]:
    """Where the ONNX file and its manifest go: the settings' paths, or the same names in ``out``."""
    if out is None:
        return onnx_path, manifest_path
    return out / onnx_path.name, out / manifest_path.name


def export(service: str, out: Path | None = None) -> tuple[Manifest, Path]:
    """Export one service's configured model; returns its manifest and where the ONNX file went."""
    if service == "detection":
        from apis.detection.settings import DetectionSettings
        from apis.export.detection import export_detection

        settings = DetectionSettings()
        onnx_path, manifest_path = destinations(settings.onnx_path, settings.onnx_manifest_path, out)
        return export_detection(settings, onnx_path, manifest_path), onnx_path
    from apis.depth.settings import DepthSettings
    from apis.export.depth import export_depth

    settings = DepthSettings()
    onnx_path, manifest_path = destinations(settings.onnx_path, settings.onnx_manifest_path, out)
    return export_depth(settings, onnx_path, manifest_path), onnx_path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apis.export", description=__doc__.splitlines()[0])
    parser.add_argument("--service", choices=[*SERVICES, "all"], default="all")
    parser.add_argument("--out", type=Path, help="folder for the files (default: the settings' paths)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    # Build time, not a service: never let ultralytics install packages or phone home.
    os.environ.setdefault("YOLO_AUTOINSTALL", "false")
    for service in SERVICES if args.service == "all" else (args.service,):
        try:
            manifest, onnx_path = export(service, args.out)
        except ModelLoadError as exc:
            parser.exit(1, f"{service}: {exc}\n")
        print(
            f"{service}: {onnx_path} (from {manifest.source}, opset {manifest.opset}, "
            f"sha256 {manifest.sha256[:12]})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
