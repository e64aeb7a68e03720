"""YOLO through ONNX Runtime, with ultralytics' own pre- and post-processing rebuilt on OpenCV and numpy.

No torch and no ultralytics: the production image serves this. The steps follow
``ultralytics.engine.predictor`` and ``ultralytics.utils.nms`` so that both backends return the same
boxes (tests/export checks it): the letterbox keeps the aspect ratio and pads to the model's stride
(the smallest rectangle when the export has dynamic height and width, as ultralytics does for ``.pt``
and dynamic ONNX models), one best class per candidate above the confidence threshold, class-aware NMS
(OpenCV's ``NMSBoxesBatched``), ``max_det`` kept, boxes mapped back to the original pixels and clipped.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from apis.detection.backends import Detection, DetectParams, OnnxDetectorConfig, Prediction, class_ids
from apis.runtimes.device import Placement
from apis.runtimes.onnx_session import OnnxModel, open_model

PAD_VALUE = 114  # ultralytics' letterbox grey
MAX_NMS = 30_000  # most candidates that enter NMS, highest confidence first (ultralytics' max_nms)
# ultralytics' plotting palette, so annotated images look alike whichever backend drew them.
PALETTE_HEX = (
    "042AFF 0BDBEB F3F3F3 00DFB7 111F68 FF6FDD FF444F CCED00 00F344 BD00FF "
    "00B4FF DD00BA 00FFFF 26C000 01FFB3 7D24FF 7B0068 FF1B6C FC6D2F A2FF0B"
)
PALETTE = [tuple(int(h[i : i + 2], 16) for i in (0, 2, 4)) for h in PALETTE_HEX.split(" ")]


@dataclass(frozen=True)
class Letterbox:
    """Where the original image sits inside the network input."""

    input_shape: tuple[int, int]  # (height, width) fed to the network
    gain: tuple[float, float]  # (y, x): input pixels per original pixel
    pad: tuple[int, int]  # (x, y): left and top padding


def inference_shape(imgsz: int, stride: int) -> int:
    """``imgsz`` rounded up to a multiple of the stride, at least one stride (ultralytics' check_imgsz)."""
    return max(math.ceil(imgsz / stride) * stride, stride)


def letterbox(
    rgb: np.ndarray, new_shape: tuple[int, int], *, stride: int, auto: bool
) -> tuple[np.ndarray, Letterbox]:
    """Resize keeping the aspect ratio and pad with grey (ultralytics' LetterBox, centred, scale-up allowed).

    ``auto`` pads only to the next multiple of ``stride`` instead of the full ``new_shape``.
    """
    height, width = rgb.shape[:2]
    ratio = min(new_shape[0] / height, new_shape[1] / width)
    new_w, new_h = max(round(width * ratio), 1), max(round(height * ratio), 1)
    dw, dh = new_shape[1] - new_w, new_shape[0] - new_h
    if auto:
        dw, dh = dw % stride, dh % stride
    dw, dh = dw / 2, dh / 2
    top, bottom = round(dh - 0.1), round(dh + 0.1)
    left, right = round(dw - 0.1), round(dw + 0.1)
    if (width, height) != (new_w, new_h):
        rgb = cv2.resize(rgb, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    padded = cv2.copyMakeBorder(rgb, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3)
    return padded, _placement(padded.shape[:2], (height, width))


def _placement(input_shape: tuple[int, int], original: tuple[int, int]) -> Letterbox:
    """Gain and padding recomputed from the two shapes, as ultralytics' scale_boxes does."""
    gain = min(input_shape[0] / original[0], input_shape[1] / original[1])
    new_h, new_w = (max(round(side * gain), 1) for side in original)
    pad_x = round((input_shape[1] - new_w) / 2 - 0.1)
    pad_y = round((input_shape[0] - new_h) / 2 - 0.1)
    return Letterbox(input_shape, (new_h / original[0], new_w / original[1]), (pad_x, pad_y))


def non_max_suppression(
    output: np.ndarray, params: DetectParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes (x1, y1, x2, y2 in input pixels), confidences and class ids kept from one raw output.

    ``output`` is the network's ``(4 + classes, candidates)`` matrix: centre, size, class scores.
    """
    scores = output[4:]
    class_ids = scores.argmax(axis=0)
    confidences = scores[class_ids, np.arange(scores.shape[1])]
    keep = confidences > params.conf
    if params.classes is not None:
        keep &= np.isin(class_ids, params.classes)
    candidates = np.flatnonzero(keep)
    if candidates.size > MAX_NMS:
        candidates = candidates[np.argsort(-confidences[candidates], kind="stable")[:MAX_NMS]]
    if candidates.size == 0:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, int)
    cx, cy, w, h = output[:4, candidates]
    xywh = np.stack([cx - w / 2, cy - h / 2, w, h], axis=1)
    kept = cv2.dnn.NMSBoxesBatched(
        xywh.astype(np.float64),
        confidences[candidates].astype(np.float32),
        class_ids[candidates].astype(np.int32),
        0.0,  # already filtered above
        params.iou,
    )
    chosen = candidates[np.asarray(kept, dtype=int).reshape(-1)[: params.max_det]]
    boxes = output[:4, chosen].T.copy()
    boxes[:, :2] -= boxes[:, 2:] / 2
    boxes[:, 2:] += boxes[:, :2]
    return boxes, confidences[chosen], class_ids[chosen]


def scale_boxes(boxes: np.ndarray, placement: Letterbox, original: tuple[int, int]) -> np.ndarray:
    """Boxes from network-input pixels back to the original image's pixels, clipped to it."""
    gain_y, gain_x = placement.gain
    pad_x, pad_y = placement.pad
    boxes = (boxes - [pad_x, pad_y, pad_x, pad_y]) / [gain_x, gain_y, gain_x, gain_y]
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, original[1])
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, original[0])
    return boxes


def draw_detections(image: Image.Image, detections: list[Detection]) -> Image.Image:
    """Boxes and ``name confidence`` labels in ultralytics' style (OpenCV, no ultralytics)."""
    canvas = np.array(image.convert("RGB"))
    line = max(round(sum(canvas.shape) / 2 * 0.003), 2)
    font_thickness = max(line - 1, 1)
    font_scale = line / 3
    for d in reversed(detections):  # the most confident box is drawn last, on top
        color = PALETTE[d.class_id % len(PALETTE)]
        text_color = (0, 0, 0) if sum(color) > 500 else (255, 255, 255)
        p1 = (int(d.x1), int(d.y1))
        cv2.rectangle(canvas, p1, (int(d.x2), int(d.y2)), color, thickness=line, lineType=cv2.LINE_AA)
        label = f"{d.class_name} {d.confidence:.2f}"
        w, h = cv2.getTextSize(label, 0, fontScale=font_scale, thickness=font_thickness)[0]
        h += 3  # room below the baseline, as ultralytics leaves
        outside = p1[1] >= h  # the label fits above the box
        if p1[0] > canvas.shape[1] - w:  # keep the label inside the right edge
            p1 = (canvas.shape[1] - w, p1[1])
        p2 = (p1[0] + w, p1[1] - h if outside else p1[1] + h)
        cv2.rectangle(canvas, p1, p2, color, -1, cv2.LINE_AA)
        origin = (p1[0], p1[1] - 2 if outside else p1[1] + h - 1)
        cv2.putText(canvas, label, origin, 0, font_scale, text_color, font_thickness, cv2.LINE_AA)
    return Image.fromarray(canvas)


@dataclass
class OnnxPrediction(Prediction):
    """Detections of the onnx backend; keeps the input image to draw on."""

    image: Image.Image | None = None

    def annotated(self) -> Image.Image:
        return draw_detections(self.image, self.detections)


class OnnxYoloDetector:
    """The onnx backend: a YOLO export run by ONNX Runtime. Not thread-safe: callers hold the gate."""

    backend = "onnx"

    def __init__(self, config: OnnxDetectorConfig) -> None:
        self.config = config
        self.placement: Placement | None = None
        self.weights_path: str | None = None
        self.names: dict[int, str] = {}
        self.stride = 32
        self.onnx: OnnxModel | None = None

    def load(self) -> None:
        """Check the export against its manifest and the configured weights, open it, warm up."""
        c = self.config
        self.onnx = open_model(
            c.onnx_path,
            c.onnx_manifest_path,
            service="detection",
            source=c.weights,
            device=c.device,
            threads=c.threads,
        )
        self.placement = self.onnx.placement
        self.stride = int(self.onnx.manifest.input.get("stride", 32))
        self.names = self.onnx.manifest.names
        self.weights_path = str(c.onnx_path)
        side = c.defaults.imgsz
        self.predict(Image.new("RGB", (side, side), (114, 114, 114)), c.defaults)

    def default_params(self) -> DetectParams:
        return self.config.defaults

    def predict(self, image: Image.Image, params: DetectParams) -> OnnxPrediction:
        """Run the model on an RGB image; boxes come back in that image's pixels."""
        if self.onnx is None:
            raise RuntimeError("model not loaded")
        started = time.perf_counter()
        rgb = np.asarray(image.convert("RGB"))
        side = inference_shape(params.imgsz, self.stride)
        fixed = self.onnx.fixed_shape
        padded, placement = letterbox(rgb, fixed or (side, side), stride=self.stride, auto=fixed is None)
        batch = (padded.transpose(2, 0, 1)[None].astype(np.float32)) / 255
        prepared = time.perf_counter()
        output = self.onnx.run(batch)[0]
        inferred = time.perf_counter()
        boxes, confidences, class_ids = non_max_suppression(output, params)
        boxes = scale_boxes(boxes, placement, rgb.shape[:2])
        detections = [
            Detection(int(c), self.names.get(int(c), str(c)), float(p), *map(float, box))
            for box, p, c in zip(boxes, confidences, class_ids, strict=True)
        ]
        detections.sort(key=lambda d: d.confidence, reverse=True)
        finished = time.perf_counter()
        timing = {
            "preprocess": round((prepared - started) * 1000, 2),
            "inference": round((inferred - prepared) * 1000, 2),
            "postprocess": round((finished - inferred) * 1000, 2),
            "model_call": round((finished - started) * 1000, 2),
        }
        return OnnxPrediction(detections=detections, timing_ms=timing, image=image)

    def resolve_classes(self, wanted: list[str | int]) -> list[int]:
        """Class names (spelled as the model does) or ids -> ids; unknown ones raise ``KeyError``."""
        return class_ids(self.names, wanted)
