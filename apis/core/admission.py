"""Admission by time: let a request in only if its expected time on the model fits a wait budget.

A count of waiting requests says little about how long the last one waits: 8 detections wait about
0.5 s, 8 depth maps about 10 s. :class:`Admission` instead keeps an exponentially weighted mean of
each request's measured time on the model (under load: the interval at which the queue drains, see
``InferenceGate``), and admits a request when ``(requests already admitted + 1) x that mean``, the
work ahead of it plus its own, is at most the budget (``MAX_QUEUE_WAIT_S``). Counting its own call
keeps the slowest admitted answer near the budget: with the work ahead alone, an admitted request
could take the budget plus its own call plus decoding, more than the benchmark's p99 bound of
budget + 2 x p50 as soon as load slows each call. Beyond it the request gets a 503 whose
``Retry-After`` is when that work is expected to fit again. A request that finds nothing admitted is
always let in (a call slower than the whole budget must still be served and measured). A hard cap
on admitted requests (``MAX_WAITING``) stays as a memory safety only: each admitted request may hold
a decoded photo.
"""

from __future__ import annotations

import math
import threading

from apis.core.errors import ServiceUnavailable

#: Weight of the newest measurement in the running mean: about the last ten calls count.
SMOOTHING = 0.2


class Admission:
    """The admission policy of one worker's model: thread-safe, knows nothing of HTTP or Flask."""

    def __init__(self, max_wait_s: float, hard_cap: int) -> None:
        self.max_wait_s = max_wait_s
        self.hard_cap = hard_cap
        self._lock = threading.Lock()
        self._admitted = 0
        self._estimate_s: float | None = None

    @property
    def admitted(self) -> int:
        """Requests admitted and not finished yet: waiting for the model, or on it."""
        return self._admitted

    @property
    def estimate_s(self) -> float | None:
        """The running mean of one request's time on the model; ``None`` before the first one."""
        return self._estimate_s

    def expected_wait_s(self) -> float:
        """How long a request admitted now is expected to wait for the model."""
        return self._admitted * (self._estimate_s or 0.0)

    def expected_time_s(self) -> float:
        """How long a request admitted now is expected to take to leave the model: wait plus its call."""
        return (self._admitted + 1) * (self._estimate_s or 0.0)

    def admit(self) -> None:
        """Count one more request in, or raise a 503 (code ``overloaded``) with ``Retry-After``."""
        with self._lock:
            time_s = self.expected_time_s()
            fits = self._admitted == 0 or time_s <= self.max_wait_s
            if self._admitted < self.hard_cap and fits:
                self._admitted += 1
                return
            admitted = self._admitted
        raise ServiceUnavailable(
            f"{admitted} requests are ahead, about {time_s:.1f} s of model time with this one, more "
            f"than this service's wait budget of {self.max_wait_s:g} s; retry after Retry-After seconds",
            code="overloaded",
            retry_after_s=self.retry_after_s(time_s),
        )

    def retry_after_s(self, time_s: float) -> int:
        """Whole seconds until the work (``time_s``) is expected to fit the budget again (>= 1)."""
        return max(1, math.ceil(time_s - self.max_wait_s))

    def finish(self, model_seconds: float | None) -> None:
        """One admitted request is done; ``model_seconds`` is how long it held the model, if it did."""
        with self._lock:
            self._admitted = max(0, self._admitted - 1)
            if model_seconds is not None:
                previous = self._estimate_s
                self._estimate_s = (
                    model_seconds if previous is None else previous + SMOOTHING * (model_seconds - previous)
                )
