"""The host that runs one model service per worker (the service's hooks: :mod:`apis.core.hooks`).

A :class:`ModelService` knows its model and its hooks, nothing of workers or health.
The :class:`ModelHost` loads it once in the background (so ``/health`` can answer 503 while
weights load), and guards it with an :class:`InferenceGate`: models are not thread-safe, and
admission by expected wait keeps an overloaded worker answering 503 instead of queueing without limit.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from contextlib import contextmanager
from enum import StrEnum
from typing import TypeVar

from flask import current_app

from apis.core.admission import Admission
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
    """One model call at a time; requests are admitted by the expected wait (:mod:`apis.core.admission`).

    A request is admitted once, as early as possible: the app calls :meth:`admit` before the body is
    read, so an overflow is answered without decoding anything, and :meth:`slot` then uses that
    admission. A :meth:`slot` without one (a direct caller) is admitted on entry.
    """

    def __init__(
        self,
        max_waiting: int,
        timeout_s: float,
        *,
        max_queue_wait_s: float = math.inf,
        overload_pause_s: float = 0.0,
    ) -> None:
        self._model_lock = threading.Lock()
        # Every request runs on one thread (gthread, test clients): its admission is kept per thread.
        self._local = threading.local()
        self.admission = Admission(max_queue_wait_s, hard_cap=max_waiting + 1)
        self.timeout_s = timeout_s
        self.overload_pause_s = overload_pause_s
        self._released_at: float | None = None  # when the model was last let go (perf_counter)

    @property
    def waiting(self) -> int:
        """Requests admitted and not yet on the model (the one on it is not counted)."""
        return max(0, self.admission.admitted - (1 if self._model_lock.locked() else 0))

    def admit(self) -> None:
        """Admit the current request (no-op if already admitted); 503 when it would wait too long.

        A refusal is answered after ``overload_pause_s`` (a sleeping thread, no CPU): a client that
        retries at once then sends one request per pause instead of a loop that takes the cores
        from the model.
        """
        if getattr(self._local, "admitted", False):
            return
        try:
            self.admission.admit()
        except ServiceUnavailable:
            time.sleep(self.overload_pause_s)
            raise
        self._local.admitted = True

    def release(self) -> None:
        """End the current request's admission if :meth:`slot` did not use it (the request failed early)."""
        if getattr(self._local, "admitted", False):
            self._local.admitted = False
            self.admission.finish(None)

    @contextmanager
    def slot(self) -> Iterator[float]:
        """Hold the model; yields the seconds spent waiting. 503 when refused or when the wait times out."""
        started = time.perf_counter()
        self.admit()
        self._local.admitted = False  # this slot now owns the admission and ends it
        held_s: float | None = None
        try:
            if not self._model_lock.acquire(timeout=self.timeout_s):
                raise ServiceUnavailable(
                    f"the model did not become free within {self.timeout_s:g} s; retry shortly",
                    code="queue_timeout",
                    retry_after_s=max(1, round(self.timeout_s / 4)),
                )
            acquired = time.perf_counter()
            try:
                yield acquired - started
            finally:
                released = time.perf_counter()
                held_s = released - self._busy_since(started, acquired)
                self._released_at = released
                self._model_lock.release()
        finally:
            self.admission.finish(held_s)

    def _busy_since(self, started: float, acquired: float) -> float:
        """When this request's turn on the model began, for the admission's estimate.

        A request that was already waiting when the model was let go starts its turn at that
        moment: the hand-over (waking this thread, the hop to the model thread) is then time the
        queue spends per request too, and the estimate follows the rate at which a queue drains
        rather than the model call alone (docs/serving.md#admission-by-expected-wait).
        """
        released = self._released_at
        return released if released is not None and started < released < acquired else acquired


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
