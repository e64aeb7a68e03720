"""Finding the depth model: a local folder, the Hugging Face cache, or a one-time download of a model id.

The service always loads from a local folder, so transformers itself never reaches the hub at
start-up; this module decides where that folder is, and fails at once with a clear message.
"""

from __future__ import annotations

from pathlib import Path

from apis.core.errors import ModelLoadError

OFFLINE_HINT = (
    "set DEPTH_MODEL to a local folder saved with save_pretrained, run `python -m apis.depth.weights` "
    "where the hub is reachable (image build time), or `make run MODELS=demo` for an offline random model"
)
# What a transformers depth model needs; READMEs, ONNX exports and .bin duplicates are skipped.
MODEL_FILES = ("*.json", "*.safetensors")


def _is_model_folder(path: Path) -> bool:
    return path.is_dir() and (path / "config.json").is_file()


def _looks_like_path(model: str) -> bool:
    return model.startswith(("/", ".", "~")) or model.count("/") != 1


def resolve_model(
    model: str, *, cache_dir: Path | None = None, revision: str | None = None, allow_download: bool
) -> Path:
    """Return a local folder holding ``model``: the folder itself, or the model id's cached snapshot.

    A model id that is not cached is downloaded once when ``allow_download`` is true; with
    ``HF_HUB_OFFLINE=1`` nothing is attempted and the error says what to do.
    """
    path = Path(model).expanduser()
    if _is_model_folder(path):
        return path
    if path.exists() or _looks_like_path(model):
        raise ModelLoadError(f"{model!r} is not a model folder (no config.json in it); {OFFLINE_HINT}")

    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    options = {
        "repo_id": model,
        "revision": revision,
        "cache_dir": cache_dir,
        "allow_patterns": list(MODEL_FILES),
    }
    try:
        return Path(snapshot_download(local_files_only=True, **options))
    except LocalEntryNotFoundError:
        pass
    if not allow_download:
        raise ModelLoadError(
            f"{model} is not in the model cache and DEPTH_ALLOW_DOWNLOAD is false; {OFFLINE_HINT}"
        )
    try:
        folder = Path(snapshot_download(**options))
    except Exception as exc:  # offline mode, unknown repo, no network: all mean the same to the operator
        raise ModelLoadError(
            f"could not download {model} ({type(exc).__name__}: {exc}); {OFFLINE_HINT}"
        ) from exc
    if not _is_model_folder(folder):
        raise ModelLoadError(f"{model} has no config.json; is it a transformers depth model?")
    return folder


def main() -> None:
    """``python -m apis.depth.weights``: fetch the configured model now (image build time)."""
    from apis.depth.settings import DepthSettings

    settings = DepthSettings()
    path = resolve_model(
        settings.model,
        cache_dir=settings.cache_dir,
        revision=settings.revision,
        allow_download=settings.allow_download,
    )
    print(f"depth model ready: {path}")


if __name__ == "__main__":
    main()
