"""Admission by expected wait: who gets in, what Retry-After says, and that an overflow is never decoded."""

from __future__ import annotations

import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from apis.core.admission import Admission
from apis.core.errors import ServiceUnavailable


def with_work_ahead(admission: Admission, ahead: int, call_s: float) -> Admission:
    """``ahead`` requests admitted and one call measured at ``call_s`` (before it, all are admitted)."""
    for _ in range(ahead + 1):
        admission.admit()
    admission.finish(call_s)
    return admission


def admitted_until_refused(admission: Admission) -> int:
    """Admit requests until one is refused; how many got in."""
    count = 0
    while True:
        try:
            admission.admit()
        except ServiceUnavailable:
            return count
        count += 1


def test_requests_are_admitted_while_the_work_ahead_and_their_own_fit_the_budget():
    admission = Admission(max_wait_s=1.0, hard_cap=100)
    admission.admit()
    admission.finish(0.25)  # one measured call: 0.25 s on the model
    # 0, 1, 2, 3 requests ahead: 0.25 ... 1.0 s until each leaves the model; the fifth would take 1.25 s.
    assert admitted_until_refused(admission) == 4
    assert admission.expected_wait_s() == pytest.approx(1.0)
    assert admission.expected_time_s() == pytest.approx(1.25)


def test_a_slower_model_admits_fewer_requests():
    admission = Admission(max_wait_s=1.0, hard_cap=100)
    admission.admit()
    admission.finish(0.5)
    assert admitted_until_refused(admission) == 2


def test_a_request_that_finds_the_model_idle_is_admitted_even_if_one_call_exceeds_the_budget():
    admission = Admission(max_wait_s=1.0, hard_cap=100)
    admission.admit()
    admission.finish(3.0)  # one photo took longer than the whole budget
    assert admitted_until_refused(admission) == 1  # served (and measured again), not refused forever


def test_the_estimate_follows_the_measured_model_time():
    admission = Admission(max_wait_s=1.0, hard_cap=100)
    assert admission.estimate_s is None
    for seconds in (1.0, 2.0):
        admission.admit()
        admission.finish(seconds)
    assert admission.estimate_s == pytest.approx(1.2)  # 1.0 + 0.2 x (2.0 - 1.0)
    admission.admit()
    admission.finish(None)  # a request that failed before the model: no measurement
    assert admission.estimate_s == pytest.approx(1.2)
    assert admission.admitted == 0


@pytest.mark.parametrize(("ahead", "retry_after"), [(4, 1), (12, 3), (20, 5)])
def test_retry_after_says_when_the_work_ahead_fits_again(ahead, retry_after):
    admission = with_work_ahead(Admission(max_wait_s=1.0, hard_cap=100), ahead, 0.25)
    with pytest.raises(ServiceUnavailable) as refused:
        admission.admit()
    assert refused.value.code == "overloaded"
    # (20 ahead + this one) x 0.25 s = 5.25 s, budget 1 s: room again in 4.25 s, said as 5.
    assert refused.value.headers["Retry-After"] == str(retry_after)


def test_the_hard_cap_holds_even_before_any_measurement():
    admission = Admission(max_wait_s=1.0, hard_cap=3)
    assert admitted_until_refused(admission) == 3


def post_photo(client, data: bytes):
    return client.post(
        "/predict", data={"image": (io.BytesIO(data), "p.jpg")}, content_type="multipart/form-data"
    )


def test_concurrent_requests_beyond_the_budget_get_503_at_once_with_retry_after(slow_app, photo_bytes):
    app, _ = slow_app
    gate = app.extensions["model_host"].gate
    gate.admission.admit()
    gate.admission.finish(0.3)  # as measured by an earlier call
    start = threading.Barrier(8)

    def call(_):
        client = app.test_client()
        start.wait()
        return post_photo(client, photo_bytes["demo08.jpg"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(call, range(8)))
    ok = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 503]
    # 0.3 s each, 1 s budget: with 0, 1 or 2 requests ahead each leaves the model within 0.9 s.
    assert len(ok) == 3 and len(refused) == 5
    for response in refused:
        assert response.get_json()["code"] == "overloaded"
        assert int(response.headers["Retry-After"]) >= 1
    assert max(r.get_json()["timing_ms"]["queue"] for r in ok) < 1.0 * 1000  # within the budget
    assert gate.admission.admitted == 0


def test_an_overflow_is_answered_before_the_upload_is_read(slow_app, photo_bytes):
    app, service = slow_app
    client = app.test_client()
    admission = with_work_ahead(app.extensions["model_host"].gate.admission, 12, 0.25)  # 3 s, budget 1 s
    for body in (photo_bytes["bus.jpg"], b"not an image at all"):
        response = post_photo(client, body)
        assert response.status_code == 503  # not 400 invalid_image: nothing was decoded
        assert response.get_json()["code"] == "overloaded"
        assert response.headers["Retry-After"] == "3"  # 13 x 0.25 s - 1 s, rounded up
    assert service.decoded == 0
    for _ in range(12):
        admission.finish(0.25)
    assert post_photo(client, photo_bytes["bus.jpg"]).status_code == 200
    assert service.decoded == 1
    assert admission.admitted == 0


def test_a_request_refused_by_its_own_input_frees_its_admission(slow_app):
    app, _ = slow_app
    response = post_photo(app.test_client(), b"not an image at all")
    assert response.status_code == 400
    assert app.extensions["model_host"].gate.admission.admitted == 0


def test_a_refusal_is_answered_after_the_overload_pause_so_eager_retries_slow_down(photo_bytes):
    from apis.core.app import create_app
    from apis.core.settings import CoreSettings
    from tests.serving.conftest import SlowFakeService

    app = create_app(
        SlowFakeService(delay_s=0.3), CoreSettings(overload_pause_s=0.4), load_in_background=False
    )
    with_work_ahead(app.extensions["model_host"].gate.admission, 12, 0.25)
    started = time.perf_counter()
    response = post_photo(app.test_client(), photo_bytes["bus.jpg"])
    assert response.status_code == 503
    assert time.perf_counter() - started >= 0.4


class SlowHandOverLock:
    """The model's lock, but a waiter that gets it takes ``delay_s`` to start (a busy, GIL-bound worker)."""

    def __init__(self, delay_s: float) -> None:
        self._lock = threading.Lock()
        self.delay_s = delay_s

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        contended = self._lock.locked()
        got = self._lock.acquire(blocking, timeout)
        if got and contended:
            time.sleep(self.delay_s)
        return got

    def release(self) -> None:
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()


def gate_with_slow_hand_over(delay_s: float):
    """A gate whose hand-over takes ``delay_s``; returns it and the list of times it reports to admission."""
    from apis.core.service import InferenceGate

    gate = InferenceGate(max_waiting=10, timeout_s=5.0, max_queue_wait_s=10.0)
    gate._model_lock = SlowHandOverLock(delay_s)
    measured: list[float] = []
    finish = gate.admission.finish

    def recording_finish(model_seconds):
        measured.append(model_seconds)
        finish(model_seconds)

    gate.admission.finish = recording_finish
    return gate, measured


def test_under_load_the_estimate_counts_the_hand_over_between_requests():
    gate, measured = gate_with_slow_hand_over(0.3)
    first_on_model = threading.Event()
    second_waiting = threading.Event()

    def first():
        with gate.slot():
            first_on_model.set()
            second_waiting.wait(5)
            time.sleep(0.05)  # let the second request reach the lock

    def second():
        first_on_model.wait(5)
        second_waiting.set()
        with gate.slot():
            pass  # an instant model call, reached 0.3 s after the first let go

    with ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(first), pool.submit(second)]:
            future.result(timeout=10)
    # The second call alone took no time, but the queue drained one request per 0.3 s.
    assert len(measured) == 2
    assert measured[1] >= 0.3
    assert gate.admission.admitted == 0


def test_time_the_model_sat_idle_between_requests_is_not_counted():
    gate, measured = gate_with_slow_hand_over(0.3)  # never contended here: no delay either
    for _ in range(3):
        with gate.slot():
            pass
        time.sleep(0.2)  # the model is idle; nobody is waiting
    assert len(measured) == 3
    assert max(measured) < 0.05
