"""Every photo the APIs accept is shown and analysed without breaking the page; others are refused."""

from __future__ import annotations

import pytest

from tests.support.images import encode, gradient
from tests.ui.corpus import accepted_photos
from tests.ui.test_page import captions, texts

pytestmark = pytest.mark.slow


def test_no_accepted_photo_breaks_the_page(page):
    at = page()
    finished = {}
    for name, (data, mime) in accepted_photos().items():
        at.file_uploader(key="upload").set_value((name, data, mime)).run()
        assert not at.exception, (name, at.exception)
        assert f"{name} · click Analyze" in captions(at), name  # shown at once, before any call
        at.button(key="analyze").click().run(timeout=120)
        assert not at.exception, (name, at.exception)
        finished[name] = at.status[0].label
        assert f"Original · {name}" in captions(at), name
        assert "Detections" in " ".join(captions(at)) and "Depth map (warm = near)" in captions(at), name
        assert not at.error, (name, texts(at.error))
    assert set(finished.values()) == {"Analysis finished"}, finished


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("notes.txt", b"just some words", ".txt files are not accepted; send one of jpg, jpeg, png"),
        ("huge.png", b"\0" * (17 * 1024 * 1024), "the file is 17.0 MB; the limit is 16 MB"),
        (
            "wide.png",
            encode(gradient(8001, 5000).convert("L"), "PNG"),
            "8001×5000 pixels; the limit is 40,000,000",
        ),
        ("broken.jpg", encode(gradient(300, 200), "JPEG")[:200], "not an image this page can read"),
    ],
)
def test_a_refused_upload_says_why_in_words_and_analyze_stays_off(page, name, data, reason):
    at = page()
    at.file_uploader(key="upload").set_value((name, data, "application/octet-stream")).run()
    assert not at.exception
    error = texts(at.error)
    assert f"Refused: {name}" in error.replace("\\", "") and reason in error
    assert at.button(key="analyze").disabled
    assert not at.image  # nothing stale or half-decoded is shown
