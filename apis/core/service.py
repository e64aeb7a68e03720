"""The host that runs one model service per worker (the service's hooks: :mod:`apis.core.hooks`).

A :class:`ModelService` knows its model and its hooks, nothing of workers or health.
The :class:`ModelHost` loads it once in the background (so ``/health`` can answer 503 while
weights load), and guards it with an :class:`InferenceGate`: models are not thread-safe, and a
bounded wait keeps an overloaded worker answering 503 instead of queueing without limit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from contextlib import contextmanager
from enum import StrEnum
from typing import TypeVar

from flask import current_app

from apis.core.errors import ModelLoadError, ServiceUnavailable
from apis.core.hooks import ModelService

log = logging.getLogger(__name__)
T = TypeVar("T")
__all__ = ["InferenceGate", "ModelHost", "ModelLoadError", "ModelService", "ModelState", "current_host"]


class ModelState(StrEnum):
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


class InferenceGate:
    """One model call at a time, with a bounded number of callers waiting for their turn."""

    def __init__(self, max_waiting: int, timeout_s: float) -> None:
        self._model_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._waiting = 0
        self.max_waiting = max_waiting
        self.timeout_s = timeout_s

    @property
    def waiting(self) -> int:
        return self._waiting

    @contextmanager
    def slot(self) -> Iterator[float]:
        """Hold the model; yields the seconds spent waiting. 503 when full or when the wait times out."""
        started = time.perf_counter()
        if self._model_lock.acquire(blocking=False):
            acquired = True
        else:
            with self._count_lock:
                if self._waiting >= self.max_waiting:
                    raise ServiceUnavailable(
                        f"{self._waiting} requests are already waiting for the model; retry shortly",
                        code="overloaded",
                    )
                self._waiting += 1
            try:
                acquired = self._model_lock.acquire(timeout=self.timeout_s)
            finally:
                with self._count_lock:
                    self._waiting -= 1
        if not acquired:
            raise ServiceUnavailable(
                f"the model did not become free within {self.timeout_s:g} s; retry shortly",
                code="queue_timeout",
                retry_after_s=max(1, round(self.timeout_s / 4)),
            )
        try:
            yield time.perf_counter() - started
        finally:
            self._model_lock.release()


class ModelHost:
    """Owns one :class:`ModelService` in one worker: loading, state, the gate and the model's thread.

    Every model call runs on one dedicated thread, the one that loaded and warmed the model. torch's
    OpenMP keeps a pool of spinning threads per calling thread; calls from many request threads made
    several pools compete for the cores (yolo11n: 70 ms from a request thread against 47 ms from the
    loading thread, measured on 2 cores).
    """

    def __init__(self, service: ModelService, gate: InferenceGate) -> None:
        self.service = service
        self.gate = gate
        self.state = ModelState.LOADING
        self.error: str | None = None
        self.load_seconds: float | None = None
        self._model_thread = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"{service.route.name}-model"
        )
        self._loading: Future | None = None

    def start(self, *, background: bool = True) -> None:
        """Load the model on the model thread; wait for it unless ``background``."""
        self._loading = self._model_thread.submit(self._load)
        if not background:
            self._loading.result()

    def wait(self, timeout_s: float | None = None) -> ModelState:
        """Block until loading has finished (tests, warm-up scripts); returns the state."""
        if self._loading is not None:
            wait_for([self._loading], timeout=timeout_s)
        return self.state

    def infer(self, call: Callable[[], T]) -> tuple[T, float]:
        """Run ``call`` on the model thread once the gate lets it; returns its result and the wait (s)."""
        with self.gate.slot() as waited_s:
            return self._model_thread.submit(call).result(), waited_s

    def _load(self) -> None:
        started = time.perf_counter()
        route = self.service.route.name
        log.info("loading %s model", route)
        try:
            self.service.setup()
        except Exception as exc:
            self.error = str(exc) if isinstance(exc, ModelLoadError) else f"{type(exc).__name__}: {exc}"
            self.state = ModelState.FAILED
            log.error("%s model failed to load: %s", route, self.error)
            return
        self.load_seconds = time.perf_counter() - started
        self.state = ModelState.READY
        log.info("%s model ready in %.1f s", route, self.load_seconds)

    def require_ready(self) -> None:
        """Raise a 503 unless the model is loaded and warm."""
        if self.state is ModelState.READY:
            return
        if self.state is ModelState.FAILED:
            raise ServiceUnavailable(
                f"the model failed to load: {self.error}", code="model_failed", retry_after_s=60
            )
        raise ServiceUnavailable(
            "the model is still loading; retry shortly", code="model_loading", retry_after_s=5
        )


def current_host() -> ModelHost:
    """The :class:`ModelHost` of the running app."""
    return current_app.extensions["model_host"]
