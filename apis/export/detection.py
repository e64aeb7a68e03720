"""Export the configured YOLO weights to ONNX with ultralytics' own exporter (needs torch and ultralytics)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from apis.detection.settings import DetectionSettings
from apis.detection.weights import prepare_ultralytics_environment, resolve_weights
from apis.runtimes.onnx_manifest import Manifest, sha256_of


def export_detection(settings: DetectionSettings, onnx_path: Path, manifest_path: Path) -> Manifest:
    """Write ``onnx_path`` (dynamic height and width, NMS left to the service) and its manifest.

    Dynamic sides let the onnx backend letterbox to the smallest stride-aligned rectangle and honour
    a per-request ``imgsz``, exactly like ultralytics does with the ``.pt`` file.
    """
    prepare_ultralytics_environment()
    source = resolve_weights(settings.weights, settings.weights_dir, allow_download=settings.allow_download)
    import onnx
    import torch
    import ultralytics
    from ultralytics import YOLO

    with tempfile.TemporaryDirectory(prefix="objdepth-export-") as tmp:
        staged = (
            Path(tmp) / source.name
        )  # ultralytics writes next to the weights: keep the source folder clean
        shutil.copy2(source, staged)
        model = YOLO(str(staged), task="detect")
        exported = model.export(
            format="onnx", imgsz=settings.imgsz, dynamic=True, simplify=True, device="cpu", verbose=False
        )
        onnx_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(exported, onnx_path)
    graph = onnx.load(str(onnx_path), load_external_data=False)
    manifest = Manifest(
        service="detection",
        source=settings.weights,
        source_path=str(source),
        onnx_file=onnx_path.name,
        sha256=sha256_of(onnx_path),
        opset=max(op.version for op in graph.opset_import if op.domain in ("", "ai.onnx")),
        input={
            "name": graph.graph.input[0].name,
            "height": None,
            "width": None,
            "stride": int(max(model.model.stride)),
            "size": settings.imgsz,
        },
        class_names={str(k): str(v) for k, v in model.names.items()},
        exported_with={
            "torch": torch.__version__,
            "ultralytics": ultralytics.__version__,
            "onnx": onnx.__version__,
        },
    )
    manifest.write(manifest_path)
    return manifest
