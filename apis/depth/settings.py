"""Depth model settings (``DEPTH_*`` environment variables)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from apis.core.schemas import MAX_OBJECTS_PER_IMAGE
from apis.depth.geometry import MAX_TOKENS

DEFAULT_MODEL = "depth-anything/Depth-Anything-V2-Small-hf"


class DepthSettings(BaseSettings):
    """What model to load, how to run it, and the defaults of ``POST /predict_depth``."""

    model_config = SettingsConfigDict(env_prefix="DEPTH_", extra="ignore", protected_namespaces=())

    model: str = Field(
        default=DEFAULT_MODEL,
        description="A Hugging Face model id (Depth-Anything-V2-Small-hf, or a metric variant such as "
        "depth-anything/Depth-Anything-V2-Metric-Indoor-Small-hf), or a local folder saved with "
        "save_pretrained (config.json, weights, preprocessor_config.json).",
    )
    cache_dir: Path | None = Field(
        default=None,
        description="Where downloaded models are kept; default the Hugging Face cache (HF_HOME).",
    )
    revision: str | None = Field(
        default=None, description="Hub revision (branch, tag or commit) of a model id."
    )
    allow_download: bool = Field(
        default=True, description="Allow downloading a model id that is not in the cache yet (at start-up)."
    )
    input_size: int = Field(
        default=518,
        ge=14,
        le=2048,
        description="Size the model sees: the image keeps its aspect ratio and is scaled as little as "
        "possible so that one side has this length; both sides are rounded to multiples of 14.",
    )
    max_tokens: int = Field(
        default=MAX_TOKENS,
        ge=1,
        description="Most 14x14 patches the model sees: longer or larger photos are scaled down further "
        "(very long ones padded first), so what any photo costs the model is bounded.",
    )
    colormap: str = Field(default="Spectral_r", description="Default matplotlib colormap of the pictures.")
    jpeg_quality: int = Field(default=90, ge=30, le=100, description="Quality of the JPEG pictures.")
    box_core: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Share of a box's width and height, around its centre, over which depth_median is taken.",
    )
    max_objects: int = Field(
        default=MAX_OBJECTS_PER_IMAGE,
        ge=1,
        le=10_000,
        description="Most midpoints and detections together per request (default: the most POST /detect "
        "returns, 1000).",
    )
    backend: Literal["torch", "onnx"] = Field(
        default="torch",
        description="torch: the model through transformers and PyTorch; onnx: its ONNX export through "
        "ONNX Runtime (no torch needed; `make export` writes it).",
    )
    onnx_path: Path = Field(
        default=Path("models/onnx/depth.onnx"),
        description="The ONNX file of the onnx backend (exported from `model` by `python -m apis.export`).",
    )
    onnx_manifest: Path | None = Field(
        default=None,
        description="Its manifest (source model, preprocessing, depth semantics, checksum); "
        "default: onnx_path with .json.",
    )

    @property
    def onnx_manifest_path(self) -> Path:
        return self.onnx_manifest or self.onnx_path.with_suffix(".json")
