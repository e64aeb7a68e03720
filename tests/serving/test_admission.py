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


def test_requests_are_admitted_while_the_work_ahead_fits_the_budget():
    admission = Admission(max_wait_s=1.0, hard_cap=100)
    admission.admit()
    admission.finish(0.25)  # one measured call: 0.25 s on the model
    # 0, 1, 2, 3, 4 requests ahead: 0 ... 1.0 s of expected wait; the sixth would wait 1.25 s.
    assert admitted_until_refused(admission) == 5
    assert admission.expected_wait_s() == pytest.approx(1.25)


def test_a_slower_model_admits_fewer_requests():
    admission = Admission(max_wait_s=1.0, hard_cap=100)
    admission.admit()
    admission.finish(0.5)
    assert admitted_until_refused(admission) == 3


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


@pytest.mark.parametrize(("ahead", "retry_after"), [(5, 1), (12, 2), (20, 4)])
def test_retry_after_says_when_the_work_ahead_fits_again(ahead, retry_after):
    admission = with_work_ahead(Admission(max_wait_s=1.0, hard_cap=100), ahead, 0.25)
    with pytest.raises(ServiceUnavailable) as refused:
        admission.admit()
    assert refused.value.code == "overloaded"
    # 20 x 0.25 s = 5 s ahead, budget 1 s: room again in 4 s.
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
    # 0.3 s each, 1 s budget: 0, 1, 2 and 3 requests ahead fit (0.9 s); the others are refused.
    assert len(ok) == 4 and len(refused) == 4
    for response in refused:
        assert response.get_json()["code"] == "overloaded"
        assert int(response.headers["Retry-After"]) >= 1
    assert max(r.get_json()["timing_ms"]["queue"] for r in ok) < (1.0 + 0.3) * 1000  # budget + one call
    assert gate.admission.admitted == 0


def test_an_overflow_is_answered_before_the_upload_is_read(slow_app, photo_bytes):
    app, service = slow_app
    client = app.test_client()
    admission = with_work_ahead(app.extensions["model_host"].gate.admission, 12, 0.25)  # 3 s, budget 1 s
    for body in (photo_bytes["bus.jpg"], b"not an image at all"):
        response = post_photo(client, body)
        assert response.status_code == 503  # not 400 invalid_image: nothing was decoded
        assert response.get_json()["code"] == "overloaded"
        assert response.headers["Retry-After"] == "2"
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
