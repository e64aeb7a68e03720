"""Analysing one photo in visible steps: elapsed time, "taking longer", "busy, retrying", cancel.

Each API call runs in a worker thread while the page redraws its line every fraction of a second.
A click on Cancel makes Streamlit rerun the page, which stops this script at its next redraw; the
abandoned call finishes in the background and its answer is dropped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from ui.client import ApiCallError, ApiClient, WaitListener
from ui.markup import plain
from ui.report import Analysis, Photo

T = TypeVar("T")
REDRAW_S = 0.25
# Beyond these the line says the step takes longer than usual (still waiting up to the timeout).
EXPECTED_DETECTION_S = 5.0
EXPECTED_DEPTH_S = 20.0
CANCEL_KEY = "cancel"


def run_step(label: str, call: Callable[[WaitListener], T], *, expected_s: float, budget_s: float) -> T:
    """``call(on_wait)`` with a live line: ``label · 3 s``, and why it waits when it does."""
    line = st.empty()
    outcome: dict[str, Any] = {}
    notes: list[str] = []

    def work() -> None:
        try:
            outcome["value"] = call(lambda text, _pause: notes.append(text))
        except BaseException as exc:  # handed to the page thread, raised there
            outcome["error"] = exc

    started = time.monotonic()
    worker = threading.Thread(target=work, name=f"ui-step-{label}", daemon=True)
    worker.start()
    while worker.is_alive():
        elapsed = time.monotonic() - started
        text = f"{label} · {elapsed:.0f} s"
        if notes:
            text += f" · {notes[-1]}"
        if elapsed > expected_s:
            text += f" · taking longer than usual (waiting up to {budget_s:g} s)"
        line.markdown(plain(text))
        worker.join(REDRAW_S)
    elapsed = time.monotonic() - started
    retried = f" · busy, retried {len(notes)}×" if notes else ""
    slow = f" · longer than the usual {expected_s:g} s" if elapsed > expected_s else ""
    if "error" in outcome:
        line.markdown(plain(f"{label} · failed after {elapsed:.1f} s{retried}{slow}"))
        raise outcome["error"]
    line.markdown(plain(f"{label} · done in {elapsed:.1f} s{retried}{slow}"))
    return outcome["value"]


def cancel_button():
    """The button that stops the analysis running below it (see :func:`was_cancelled`).

    Returns its place on the page: ``.empty()`` it when the analysis is over.
    """
    place = st.empty()
    place.button("Cancel", key=CANCEL_KEY, help="Stop waiting; the results shown before stay.")
    return place


def was_cancelled() -> bool:
    """True in the run that a click on Cancel started."""
    return bool(st.session_state.get(CANCEL_KEY))


def analyze(client: ApiClient, photo: Photo, options: dict, *, name: str = "Analysis") -> Analysis:
    """Detection, then depth of the detected objects; a failure of one is recorded, never raised.

    The status box reads ``{name} finished`` (or ``... with problems``) when done.
    """
    results: dict = {}
    settings = client.settings
    with st.status(f"{name}: working…", expanded=True) as status:
        try:
            results["detection"] = run_step(
                "Detecting objects",
                lambda on_wait: client.detect(
                    photo.data,
                    photo.name,
                    conf=options["conf"],
                    iou=options["iou"],
                    classes=list(options["classes"]),
                    on_wait=on_wait,
                ),
                expected_s=min(EXPECTED_DETECTION_S, settings.detection_timeout_s),
                budget_s=settings.detection_timeout_s,
            )
            st.write(f"Found {len(results['detection'].objects)} objects.")
        except ApiCallError as exc:
            results["detection_error"] = exc
            st.write(f"Detection failed: {plain(str(exc))}")
        detection = results.get("detection")
        try:
            results["depth"] = run_step(
                "Estimating depth",
                lambda on_wait: client.predict_depth(
                    photo.data, photo.name, detection.raw_detections if detection else None, on_wait
                ),
                expected_s=min(EXPECTED_DEPTH_S, settings.depth_timeout_s),
                budget_s=settings.depth_timeout_s,
            )
        except ApiCallError as exc:
            results["depth_error"] = exc
            st.write(f"Depth failed: {plain(str(exc))}")
        failed = "detection_error" in results or "depth_error" in results
        status.update(
            label=f"{name} finished with problems" if failed else f"{name} finished",
            state="error" if failed else "complete",
            expanded=False,
        )
    return Analysis(photo=photo, options=options, **results)
