"""The contract of a model service: the hooks a model implements, and nothing of HTTP.

In the spirit of LitServe (``setup`` / ``decode_request`` / ``predict`` / ``encode_response``): the
core (:mod:`apis.core.predict_route`) owns the POST route, readiness, field and image parsing, the
gate and the model thread, timing, metrics, errors and JSON, and calls these hooks in one pass::

    form, image ──decode_request──► inputs ──predict (model thread)──► output ──encode_response──► body

This module imports no web framework and no model library, so a service module that implements
it does not either.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from apis.core.errors import ModelLoadError
from apis.core.images import DecodedImage
from apis.core.schemas import FormFields
from delivery.routes import ServiceRoute

__all__ = ["ModelLoadError", "ModelService", "StageTimer"]

FormT = TypeVar("FormT", bound=FormFields)
InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")


class StageTimer:
    """Milliseconds per request stage (``decode``, ``queue``, the model's own, ``encode`` ...)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.stages: dict[str, float] = {}

    def add(self, name: str, milliseconds: float) -> None:
        self.stages[name] = milliseconds

    def merge(self, stages: Mapping[str, float]) -> None:
        """Add stages measured elsewhere (a model's ``timing_ms``), in their order."""
        self.stages.update(stages)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as stage ``name``."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = (time.perf_counter() - started) * 1000

    def since_start_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    def finish(self) -> dict[str, float]:
        """Every stage plus ``total``, rounded to 0.01 ms."""
        return {k: round(v, 2) for k, v in {**self.stages, "total": self.since_start_ms()}.items()}


class ModelService(ABC, Generic[FormT, InputT, OutputT]):
    """One model behind HTTP. Subclasses set the class attributes and implement the hooks."""

    #: The service's row in :mod:`delivery.routes` (name, port, default path prefix).
    route: ClassVar[ServiceRoute]
    #: The POST route the core serves for this model (``/detect``), with its OpenAPI summary.
    predict_path: ClassVar[str]
    predict_summary: ClassVar[str]
    #: The optional form/query fields of that route, validated before ``decode_request``.
    form: ClassVar[type[FormFields]]
    #: The response schema; the body of ``encode_response`` is validated and answered through it.
    response: ClassVar[type[BaseModel]]
    #: Default wait budget (``MAX_QUEUE_WAIT_S``): the longest expected wait for the model at admission.
    max_queue_wait_s: ClassVar[float] = 5.0

    @abstractmethod
    def setup(self) -> None:
        """Load the weights and run one warm-up inference; raise :class:`ModelLoadError` on failure."""

    @abstractmethod
    def info(self) -> dict[str, Any]:
        """What ``/model-info`` shows: weights, classes, device, thresholds."""

    def form_context(self) -> dict[str, Any]:
        """What the form's validators may consult (e.g. the loaded model's class names)."""
        return {}

    def field_schemas(self) -> dict[str, dict[str, Any]]:
        """JSON Schema additions for form fields whose valid values depend on the loaded model."""
        return {}

    @abstractmethod
    def decode_request(self, form: FormT, image: DecodedImage) -> InputT:
        """The validated fields and the decoded image as the typed inputs of one prediction."""

    @abstractmethod
    def predict(self, inputs: InputT) -> OutputT:
        """Run the model (on the model's own thread, holding the gate). An output's ``timing_ms``
        mapping, if it has one, becomes stages of the response's ``timing_ms``."""

    def run_model(
        self, inputs: InputT, infer: Callable[[], tuple[OutputT, float]], cache_lookups: Any = None
    ) -> tuple[OutputT, float]:
        """How a request reaches the model; returns ``(output, seconds waited for the model)``.

        ``infer()`` runs :meth:`predict` through the gate on the model thread. A service may answer
        some requests without the model (a result cache) and count them in ``cache_lookups`` (a
        Prometheus counter labelled ``result=hit|miss``).
        """
        return infer()

    @abstractmethod
    def encode_response(self, inputs: InputT, output: OutputT, timer: StageTimer) -> dict[str, Any]:
        """The response body without ``timing_ms`` (the core adds it); time extra stages on ``timer``."""

    def extra_routes(self) -> Any | None:
        """A Flask blueprint of further endpoints, kept in a module of its own; None (default): none."""
        return None
