"""The small JSON file written next to each exported ``.onnx``: where it came from and how to feed it.

The ONNX backends read it instead of the model libraries: class names, stride and input size for
detection; preprocessing, semantics and parameter count for depth. The checksum ties the pair
together, and the source name ties it to the configured weights. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from apis.core.errors import ModelLoadError

FORMAT = "objdepth-onnx/1"
EXPORT_HINT = "run `make export` (or `python -m apis.export`) to export the configured model"


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Manifest:
    """What an exported model is and how to run it."""

    service: str  # "detection" or "depth"
    source: str  # DETECTION_WEIGHTS / DEPTH_MODEL as configured when exporting
    source_path: str  # the local file or folder it was read from
    onnx_file: str  # file name, relative to the manifest's folder
    sha256: str
    opset: int
    #: ``{"name": "images", "height": null, "width": null, "stride": 32, "size": 640}``: null sides are
    #: dynamic; ``size`` is the default inference size.
    input: dict[str, Any]
    #: Detection: ``{"0": "person", ...}`` (JSON keys are strings).
    class_names: dict[str, str] = field(default_factory=dict)
    #: Depth: semantics, max_depth, parameters and the image processor's settings.
    depth: dict[str, Any] = field(default_factory=dict)
    exported_with: dict[str, str] = field(default_factory=dict)
    format: str = FORMAT

    @property
    def names(self) -> dict[int, str]:
        return {int(k): v for k, v in self.class_names.items()}

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise ModelLoadError(f"ONNX manifest {path} does not exist; {EXPORT_HINT}") from None
        except ValueError as exc:
            raise ModelLoadError(f"ONNX manifest {path} is not valid JSON ({exc}); {EXPORT_HINT}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ModelLoadError(f"{path} is not an objdepth ONNX manifest ({FORMAT}); {EXPORT_HINT}")
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def load_checked(onnx_path: Path, manifest_path: Path, *, service: str, source: str) -> Manifest:
    """Read the manifest and check it belongs to ``onnx_path``, to ``service`` and to ``source``.

    ``source`` is compared by its last path component, so ``yolo11n.pt`` matches
    ``/opt/models/weights/yolo11n.pt`` but not ``yolov8s.pt``.
    """
    manifest = Manifest.read(manifest_path)
    if manifest.service != service:
        raise ModelLoadError(f"{manifest_path} describes a {manifest.service} model, not a {service} model")
    if Path(manifest.source).name != Path(source).name:
        raise ModelLoadError(
            f"{onnx_path} was exported from {manifest.source!r}, but the service is configured for "
            f"{source!r}; {EXPORT_HINT}"
        )
    if not onnx_path.is_file():
        raise ModelLoadError(f"ONNX file {onnx_path} does not exist; {EXPORT_HINT}")
    if sha256_of(onnx_path) != manifest.sha256:
        raise ModelLoadError(f"{onnx_path} does not match the checksum in {manifest_path}; {EXPORT_HINT}")
    return manifest
