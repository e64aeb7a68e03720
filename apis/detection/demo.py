"""Random-weight YOLO models for offline demos and tests, saved exactly like real weights.

A freshly initialised YOLO detects nothing useful: its batch-norm statistics are the defaults, so
activations vanish and every class score is the same. Re-estimating the batch-norm statistics
on a few photos and biasing a handful of classes gives varied boxes and confidences, so NMS,
sorting, filtering and drawing are exercised like with trained weights. The boxes mean nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from apis.detection.weights import prepare_ultralytics_environment

# person, car, dog: the classes a random model will "see".
DEMO_CLASSES = (0, 2, 16)


def build_random_yolo(
    destination: Path,
    calibration_images: Sequence[Image.Image],
    *,
    architecture: str = "yolo11n.yaml",
    seed: int = 0,
) -> Path:
    """Build ``architecture`` with random weights, calibrate it on the images, save a ``.pt``."""
    import torch

    prepare_ultralytics_environment()
    from ultralytics import YOLO
    from ultralytics.utils import ROOT, YAML

    torch.manual_seed(seed)
    model = YOLO(architecture)
    network = model.model
    network.names = YAML.load(ROOT / "cfg" / "datasets" / "coco.yaml")["names"]  # as in real COCO weights
    for module in network.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = None  # cumulative average over the calibration batch
            module.reset_running_stats()
    batch = torch.from_numpy(
        np.stack(
            [
                np.asarray(img.convert("RGB").resize((640, 640)), dtype=np.float32) / 255
                for img in calibration_images
            ]
        )
    ).permute(0, 3, 1, 2)
    network.train()
    with torch.no_grad():
        network(batch)
    network.eval()

    head = network.model[-1]
    outputs: list[torch.Tensor] = []
    hooks = [branch[-1].register_forward_hook(lambda _m, _i, out: outputs.append(out)) for branch in head.cv3]
    with torch.no_grad():
        network(batch)
    for hook in hooks:
        hook.remove()
    class_count = outputs[0].shape[1]
    images = batch.shape[0]
    logits = torch.cat([o.transpose(0, 1).reshape(class_count, images, -1) for o in outputs], dim=2)
    # Every calibration photo gets at least one box of each demo class at ~0.4 confidence.
    weakest_peak = logits[list(DEMO_CLASSES)].amax(dim=2).amin(dim=1)
    for branch in head.cv3:
        bias = branch[-1].bias.data
        shift = torch.full_like(bias, -100.0)
        for class_id, peak in zip(DEMO_CLASSES, weakest_peak, strict=True):
            shift[class_id] = -float(peak) - 0.4
        bias += shift
    destination.parent.mkdir(parents=True, exist_ok=True)
    model.save(str(destination))
    return destination
