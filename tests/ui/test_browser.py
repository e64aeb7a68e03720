"""The page in a real Chromium (Debian's, through Playwright), against the platform the launcher runs."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.support.browser import launched_chromium
from tests.support.images import encode, gradient
from tests.ui.conftest import ARTIFACTS

LOCAL_SCHEMES = {"data", "blob", "about"}
HEADING = "What is in this photo, and what is nearest?"
FIGURES = "[data-testid='stImageContainer'], [data-testid='stFullScreenFrame']"
# Mean brightness (0-255) of an <img>, read back through a small canvas.
BRIGHTNESS = """img => {
  const canvas = document.createElement('canvas'); canvas.width = 64; canvas.height = 64;
  const context = canvas.getContext('2d'); context.drawImage(img, 0, 0, 64, 64);
  const pixels = context.getImageData(0, 0, 64, 64).data; let sum = 0;
  for (let i = 0; i < pixels.length; i += 4) sum += pixels[i] + pixels[i + 1] + pixels[i + 2];
  return sum / (pixels.length / 4) / 3;
}"""

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture()
def open_page(browser, platform, request):
    """A fresh page on the platform's UI; on failure a screenshot is kept; nothing leaves 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1400, "height": 1800}, accept_downloads=True)
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
    page.goto(platform.ui_url, wait_until="domcontentloaded")
    page.get_by_role("heading", name=HEADING).wait_for(timeout=60_000)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-failed.png"), full_page=True)
    context.close()
    assert not blocked, f"the page tried to reach beyond 127.0.0.1: {blocked}"


def figure_image(page, caption: str):
    figure = page.locator(FIGURES).filter(has_text=caption).first
    figure.wait_for(timeout=30_000)
    return figure.locator("img")


def analyze_one(page, path: Path) -> None:
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_text(f"{path.name} · click Analyze").wait_for(timeout=30_000)  # the upload reached the server
    page.get_by_role("button", name="Analyze", exact=True).click()
    page.get_by_text("Analysis finished", exact=True).wait_for(timeout=90_000)


def test_upload_analyze_and_a_table_row_highlights_its_box(open_page, images_dir):
    page = open_page
    analyze_one(page, images_dir / "bus.jpg")
    for caption in ("Original · bus.jpg", "Detections, nearest first", "Depth map (warm = near)"):
        assert figure_image(page, caption).evaluate("img => img.complete && img.naturalWidth > 100"), caption
    page.get_by_text("Nearest:").wait_for(timeout=30_000)
    page.get_by_text("Full result (JSON)").wait_for(timeout=30_000)  # the download buttons load last
    page.screenshot(path=str(ARTIFACTS / "ui-bus.png"), full_page=True)
    assert (ARTIFACTS / "ui-bus.png").stat().st_size > 50_000

    detections = figure_image(page, "Detections, nearest first")
    before_src, before_light = detections.get_attribute("src"), detections.evaluate(BRIGHTNESS)
    grid = page.locator("[data-testid='stDataFrame']").bounding_box()
    page.mouse.click(grid["x"] + 14, grid["y"] + 35 + 17)  # the first row's selection box (glide grid)
    deadline = time.monotonic() + 30
    while detections.get_attribute("src") == before_src and time.monotonic() < deadline:
        time.sleep(0.2)
    page.wait_for_timeout(500)
    assert detections.get_attribute("src") != before_src, "selecting a row did not redraw the picture"
    assert detections.evaluate(BRIGHTNESS) < 0.8 * before_light  # everything but the selected box is dimmed
    page.screenshot(path=str(ARTIFACTS / "ui-bus-selected.png"), full_page=True)


@pytest.mark.parametrize("size", [(10000, 10), (10, 10000)], ids=["wide", "tall"])
def test_a_panorama_is_analysed_without_breaking_the_page(open_page, tmp_path, size):
    path = tmp_path / f"panorama-{size[0]}x{size[1]}.png"
    path.write_bytes(encode(gradient(*size), "PNG"))
    page = open_page
    analyze_one(page, path)
    for caption in (f"Original · {path.name}", "Depth map (warm = near)"):
        assert figure_image(page, caption).evaluate("img => img.complete && img.naturalHeight > 10"), caption
    page.get_by_text("Full result (JSON)").wait_for(timeout=30_000)
    assert page.get_by_text("This app has encountered an error").count() == 0


def test_three_photos_in_one_go_give_a_gallery_and_a_csv_of_every_object(open_page, images_dir):
    page = open_page
    page.get_by_text("Many photos", exact=True).click()
    page.get_by_text("Up to 20 photos", exact=False).wait_for(timeout=30_000)  # the batch uploader is there
    names = ["bus.jpg", "zidane.jpg", "demo08.jpg"]
    page.locator("input[type=file]").set_input_files([str(images_dir / name) for name in names])
    page.get_by_text("3 photos ready").wait_for(timeout=30_000)
    page.get_by_role("button", name="Analyze all", exact=True).click()
    page.get_by_text("3 of 3 photos analysed").wait_for(timeout=180_000)
    for name in names:
        assert figure_image(page, f"{name} · Nearest:").evaluate(
            "img => img.complete && img.naturalWidth > 50"
        )
    with page.expect_download() as download:
        page.get_by_role("button", name="All objects (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert {row["photo"] for row in rows} == set(names)
    for name in names:
        ranks = [int(row["rank"]) for row in rows if row["photo"] == name]
        assert ranks == list(range(1, len(ranks) + 1)) and ranks, name
    assert all(0 <= float(row["closeness"]) <= 1 for row in rows)
    page.screenshot(path=str(ARTIFACTS / "ui-batch.png"), full_page=True)


def test_cancel_stops_waiting_at_once_and_keeps_the_photo(open_page, tmp_path):
    path = tmp_path / "big-40mp.jpg"  # seconds of work for the APIs, even with tiny models
    path.write_bytes(encode(gradient(8000, 5000), "JPEG", quality=70))
    page = open_page
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_text(f"{path.name} · click Analyze").wait_for(timeout=60_000)
    page.get_by_role("button", name="Analyze", exact=True).click()
    page.get_by_text("Detecting objects ·").first.wait_for(timeout=30_000)
    clicked = time.monotonic()
    page.get_by_role("button", name="Cancel", exact=True).click()
    page.get_by_text("Analysis cancelled. Click Analyze to try again.").wait_for(timeout=10_000)
    assert time.monotonic() - clicked < 5
    page.get_by_text(f"{path.name} · click Analyze").wait_for(timeout=30_000)  # the photo is still there
    assert page.get_by_text("Analysis finished", exact=True).count() == 0
