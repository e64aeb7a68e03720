"""Finding YOLO weights: a local file, the download cache, or a one-time download of a named model."""

from __future__ import annotations

import os
from pathlib import Path

import apis.core.images  # noqa: F401  (keeps Pillow's Image.open before ultralytics patches it)
from apis.core.errors import ModelLoadError

OFFLINE_HINT = (
    "set DETECTION_WEIGHTS to a local .pt file, "
    "or run `make run MODELS=demo` for offline random-weight models"
)


def prepare_ultralytics_environment() -> None:
    """Keep ultralytics from installing packages or sending analytics from a production service."""
    os.environ.setdefault("YOLO_AUTOINSTALL", "false")
    os.environ.setdefault("YOLO_VERBOSE", "false")


def resolve_weights(weights: str, cache_dir: Path, *, allow_download: bool) -> Path:
    """Return a local path for ``weights``, downloading a known Ultralytics model once if allowed.

    Ultralytics itself would try to download any path that does not exist, even a typo'd local
    path; this function decides first, so a missing file fails at once with a clear message.
    """
    path = Path(weights).expanduser()
    if path.is_file():
        return path
    cache_dir = cache_dir.expanduser()
    cached = cache_dir / path.name
    if cached.is_file():
        return cached

    prepare_ultralytics_environment()
    from ultralytics.utils.downloads import GITHUB_ASSETS_NAMES, attempt_download_asset

    if len(path.parts) > 1 or path.name not in GITHUB_ASSETS_NAMES:
        raise ModelLoadError(f"weights file {weights!r} does not exist; {OFFLINE_HINT}")
    if not allow_download:
        raise ModelLoadError(
            f"{weights} is not in {cache_dir} and DETECTION_ALLOW_DOWNLOAD is false; {OFFLINE_HINT}"
        )
    cache_dir.mkdir(parents=True, exist_ok=True)
    try:
        downloaded = Path(attempt_download_asset(str(cached)))
    except Exception as exc:
        raise ModelLoadError(f"could not download {weights} ({exc}); {OFFLINE_HINT}") from exc
    if not downloaded.is_file():
        raise ModelLoadError(f"could not download {weights} (no model hub reachable?); {OFFLINE_HINT}")
    return downloaded


def main() -> None:
    """``python -m apis.detection.weights``: fetch the configured weights now (image build time)."""
    from apis.detection.settings import DetectionSettings

    settings = DetectionSettings()
    path = resolve_weights(settings.weights, settings.weights_dir, allow_download=settings.allow_download)
    print(f"detection weights ready: {path}")


if __name__ == "__main__":
    main()
