"""Random-weight Depth Anything V2 models for offline demos and tests, saved exactly like real ones.

The folder holds ``config.json``, ``model.safetensors`` and ``preprocessor_config.json``, as the
hub's ``depth-anything/Depth-Anything-V2-Small-hf`` does, so the service loads it through its real
path. The depth it predicts means nothing, but it varies across the image, so statistics,
ranking and pictures are exercised as with trained weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

# Depth Anything V2 Small: a DINOv2 ViT-S/14 backbone read at four depths, a DPT neck and head.
SMALL_BACKBONE = {
    "hidden_size": 384,
    "num_hidden_layers": 12,
    "num_attention_heads": 6,
    "out_indices": [3, 6, 9, 12],
}
SMALL_HEAD = {"neck_hidden_sizes": [48, 96, 192, 384], "fusion_hidden_size": 64, "head_hidden_size": 32}
# Four backbone layers is the least that gives four distinct out_indices.
TINY_BACKBONE = {
    "hidden_size": 32,
    "num_hidden_layers": 4,
    "num_attention_heads": 2,
    "out_indices": [1, 2, 3, 4],
}
TINY_HEAD = {"neck_hidden_sizes": [8, 16, 32, 64], "fusion_hidden_size": 16, "head_hidden_size": 8}
INPUT_SIZE = 518
# Largest depth of the published metric checkpoints: indoor 20 m, outdoor 80 m.
METRIC_MAX_DEPTH = 20


def build_random_depth_anything(
    destination: Path, *, tiny: bool = False, metric: bool = False, seed: int = 0
) -> Path:
    """Save a random-weight Depth Anything V2 (Small, or ``tiny``) and its image processor in ``destination``.

    ``metric`` builds the head of the metric variants (values in meters, up to 20) instead of
    the relative one.
    """
    import torch
    from transformers import (
        DepthAnythingConfig,
        DepthAnythingForDepthEstimation,
        Dinov2Config,
        DPTImageProcessor,
    )

    backbone, head = (TINY_BACKBONE, TINY_HEAD) if tiny else (SMALL_BACKBONE, SMALL_HEAD)
    backbone_config = Dinov2Config(
        image_size=INPUT_SIZE, patch_size=14, reshape_hidden_states=False, mlp_ratio=4, **backbone
    )
    extra = {"depth_estimation_type": "metric", "max_depth": METRIC_MAX_DEPTH} if metric else {}
    config = DepthAnythingConfig(
        backbone_config=backbone_config,
        patch_size=14,
        reassemble_hidden_size=backbone["hidden_size"],
        **head,
        **extra,
    )
    torch.manual_seed(seed)
    model = DepthAnythingForDepthEstimation(config).eval()
    processor = DPTImageProcessor(
        do_resize=True,
        size={"height": INPUT_SIZE, "width": INPUT_SIZE},
        keep_aspect_ratio=True,
        ensure_multiple_of=14,
        resample=3,  # bicubic
        do_rescale=True,
        do_normalize=True,
        image_mean=[0.485, 0.456, 0.406],
        image_std=[0.229, 0.224, 0.225],
        do_pad=False,
    )
    _calibrate_head(model, processor, metric=metric)
    destination.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(destination)
    processor.save_pretrained(destination)
    return destination


def _calibration_image(size: int = INPUT_SIZE) -> Image.Image:
    """A picture with structure: colour gradients and a bright square."""
    ramp = np.linspace(0, 255, size, dtype=np.float32)
    rgb = np.stack(
        [
            np.broadcast_to(ramp, (size, size)),
            np.broadcast_to(ramp[:, None], (size, size)),
            np.full((size, size), 96.0, np.float32),
        ],
        axis=-1,
    )
    rgb[size // 3 : size // 2, size // 3 : size // 2] = 255
    return Image.fromarray(rgb.astype(np.uint8))


def _calibrate_head(model, processor, *, metric: bool) -> None:
    """Rescale the last convolution so the random output varies over a useful range.

    Untrained, the head's output differs across the image by about 1e-7; after this, the value
    before the final activation has mean 2 and spread 0.5 (relative: stays above the ReLU's zero)
    or mean 0 and spread 1.5 (metric: spreads the sigmoid over most of 0..max_depth).
    """
    import torch

    target_mean, target_std = (0.0, 1.5) if metric else (2.0, 0.5)
    captured: list[torch.Tensor] = []
    conv = model.head.conv3
    hook = conv.register_forward_hook(lambda _m, _i, out: captured.append(out))
    inputs = processor(images=_calibration_image(), return_tensors="pt")
    with torch.no_grad():
        model(**inputs)
        hook.remove()
        before = captured[0]
        gain = target_std / max(float(before.std()), 1e-20)
        conv.weight.mul_(gain)
        conv.bias.copy_(target_mean - (before.mean() - conv.bias) * gain)
