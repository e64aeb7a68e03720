"""``POST /detect``: the detection model's hooks for the shared API core (no HTTP here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apis.core.hooks import ModelService, StageTimer
from apis.core.images import DecodedImage, encode_data_url
from apis.core.schemas import image_info, runs_on
from apis.core.settings import CoreSettings
from apis.detection.backends import DetectParams, Prediction, create_detector
from apis.detection.schemas import DetectForm, DetectResponse, parse_class_list
from apis.detection.settings import DetectionSettings
from delivery.routes import DETECTION


def _regex_literal(text: str) -> str:
    """Escape regex metacharacters only (JSON Schema patterns are ECMA-262, where "\\ " is invalid)."""
    return "".join("\\" + ch if ch in r"\^$.|?*+()[]{}" else ch for ch in text)


@dataclass(frozen=True)
class DetectInputs:
    """One request's typed inputs: the photo, the thresholds, and whether to draw the boxes."""

    image: DecodedImage
    params: DetectParams
    include_image: bool


class DetectionService(ModelService[DetectForm, DetectInputs, Prediction]):
    """Object detection with YOLO (ultralytics): each object in a photo with its class, confidence and box."""

    route = DETECTION
    predict_path = "/detect"
    predict_summary = "Detect objects in a photo"
    form = DetectForm
    response = DetectResponse
    # About 35 bus.jpg detections (~55 ms each on 2 cores): a page user waits at most ~2 s more.
    max_queue_wait_s = 2.0

    def __init__(self, settings: DetectionSettings | None = None, core: CoreSettings | None = None) -> None:
        self.settings = settings or DetectionSettings()
        core = core or CoreSettings()
        self.detector = create_detector(
            self.settings, device=core.device, torch_threads=core.torch_threads, half=core.half
        )

    def setup(self) -> None:
        self.detector.load()

    def info(self) -> dict[str, Any]:
        s = self.settings
        return {
            "task": "detect",
            "backend": self.detector.backend,
            "weights": s.weights,
            "weights_path": self.detector.weights_path,
            **runs_on(self.detector.placement),
            "classes": {str(k): v for k, v in self.detector.names.items()},
            "defaults": {"conf": s.conf, "iou": s.iou, "imgsz": s.imgsz, "max_det": s.max_det},
        }

    def form_context(self) -> dict[str, Any]:
        return {"resolve_classes": self.detector.resolve_classes}

    def field_schemas(self) -> dict[str, dict[str, Any]]:
        """``classes`` takes this model's class names or ids, comma-separated."""
        if not self.detector.names:
            return {}
        choices = [_regex_literal(name) for name in self.detector.names.values()]
        choices += [str(class_id) for class_id in self.detector.names]
        one = "(?:" + "|".join(sorted(choices, key=len, reverse=True)) + ")"
        return {"classes": {"pattern": rf"^[ \t]*{one}(?:[ \t]*,[ \t]*{one})*[ \t]*$"}}

    def summary(self) -> dict[str, Any]:
        """The short ``model`` block of every response."""
        return {
            "weights": self.settings.weights,
            "task": "detect",
            "backend": self.detector.backend,
            **runs_on(self.detector.placement),
        }

    def read_params(self, form: DetectForm) -> DetectParams:
        """Per-request thresholds: the form's values, or the configured defaults."""
        s = self.settings
        classes = None
        if form.classes is not None:  # already checked against the model's classes by DetectForm
            classes = self.detector.resolve_classes(parse_class_list(form.classes))
        return DetectParams(
            conf=s.conf if form.conf is None else form.conf,
            iou=s.iou if form.iou is None else form.iou,
            imgsz=form.imgsz or s.imgsz,
            max_det=form.max_det or s.max_det,
            classes=classes,
        )

    def decode_request(self, form: DetectForm, image: DecodedImage) -> DetectInputs:
        return DetectInputs(image=image, params=self.read_params(form), include_image=form.include_image)

    def predict(self, inputs: DetectInputs) -> Prediction:
        return self.detector.predict(inputs.image.image, inputs.params)

    def encode_response(self, inputs: DetectInputs, output: Prediction, timer: StageTimer) -> dict[str, Any]:
        body: dict[str, Any] = {
            "success": True,
            "detections": [d.to_dict() for d in output.detections],
            "detection_count": len(output.detections),
            "image_info": image_info(inputs.image),
            "model": self.summary(),
        }
        if inputs.include_image:
            with timer.stage("encode"):
                body["annotated_image"] = encode_data_url(
                    output.annotated(), quality=self.settings.jpeg_quality
                )
        return body
