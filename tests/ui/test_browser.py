"""The page in a real Chromium (Debian's, through Playwright), against the platform the launcher runs."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.ui.conftest import ARTIFACTS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Belt and braces with the route guard below: no name resolves except loopback.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
LOCAL_SCHEMES = {"data", "blob", "about"}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (.ci/run does)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        yield chromium
        chromium.close()


def test_upload_analyze_and_see_pictures_and_objects(browser, platform, images_dir):
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    blocked: list[str] = []

    def only_loopback(route):
        url = urlparse(route.request.url)
        if url.scheme in LOCAL_SCHEMES or url.hostname == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        page.goto(platform.ui_url, wait_until="domcontentloaded")
        page.get_by_role("heading", name="What is in this photo, and what is nearest?").wait_for(
            timeout=60_000
        )
        page.locator("input[type=file]").set_input_files(str(images_dir / "bus.jpg"))
        analyze = page.get_by_role("button", name="Analyze", exact=True)
        page.get_by_text("bus.jpg · click Analyze").wait_for(timeout=30_000)  # the upload reached the server
        analyze.click()

        page.get_by_text("Analysis finished", exact=True).wait_for(timeout=90_000)
        for caption in ("Original · bus.jpg", "Detections, nearest first", "Depth map (warm = near)"):
            figure = page.locator(
                "[data-testid='stImageContainer'], [data-testid='stFullScreenFrame']"
            ).filter(has_text=caption)
            figure.first.wait_for(timeout=30_000)
            image = figure.first.locator("img")
            assert image.evaluate("img => img.complete && img.naturalWidth > 100"), caption
        table = page.locator("[data-testid='stDataFrame']")
        table.wait_for(timeout=30_000)
        page.get_by_text("Nearest:").wait_for(timeout=30_000)
        page.get_by_text("Full result (JSON)").wait_for(timeout=30_000)  # the download buttons load last
        page.screenshot(path=str(ARTIFACTS / "ui-bus.png"), full_page=True)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "ui-bus-failed.png"), full_page=True)
        raise
    finally:
        context.close()
    assert not blocked, f"the page tried to reach beyond 127.0.0.1: {blocked}"
    assert (ARTIFACTS / "ui-bus.png").stat().st_size > 50_000
