"""The status page in Chromium under the launcher: it is reachable from the main page's navigation and
draws its charts from requests the APIs really served. Its screenshot is kept in test-artifacts/."""

from __future__ import annotations

import threading

import pytest
import requests

from tests.ui.conftest import ARTIFACTS
from tests.ui.test_browser import browser  # noqa: F401 (the Chromium fixture)

pytestmark = pytest.mark.browser


def _traffic(platform, images_dir, stop: threading.Event) -> None:
    photo = (images_dir / "bus.jpg").read_bytes()
    while not stop.is_set():
        requests.post(
            f"{platform.detection_url}/detect", files={"image": ("bus.jpg", photo, "image/jpeg")}, timeout=60
        )
        stop.wait(0.3)


def test_the_status_page_charts_live_traffic(browser, platform, images_dir):  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 1500})
    page = context.new_page()
    stop = threading.Event()
    sender = threading.Thread(target=_traffic, args=(platform, images_dir, stop), daemon=True)
    sender.start()
    try:
        page.goto(platform.ui_url, wait_until="domcontentloaded")
        page.get_by_role("link", name="status").click()
        page.get_by_role("heading", name="Status").wait_for(timeout=60_000)
        page.get_by_text("Detection API: ok").wait_for(timeout=60_000)
        charts = page.locator("[data-testid='stVegaLiteChart']")
        charts.nth(7).wait_for(timeout=60_000)
        page.wait_for_timeout(21_000)  # a few more scrapes, so the lines have points
        assert charts.count() == 8
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "status.png"), full_page=True)
    finally:
        stop.set()
        sender.join(70)
        context.close()
