"""One order everywhere, results that follow the controls, honest waiting, and many photos at once."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from PIL import Image, ImageOps

from tests.support.images import encode
from tests.ui.proxy import proxy_for
from tests.ui.test_page import analyze, captions, texts
from ui.report import labels, objects_csv, result_json

pytestmark = pytest.mark.slow

BUSY = {"success": False, "error": "the model queue is full", "code": "overloaded"}


def chart_order(at) -> list[str]:
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    return spec["encoding"]["y"]["sort"]


def step_lines(at) -> str:
    return texts(at.markdown)


def test_table_chart_picture_and_downloads_share_one_order_run_after_run(page, photo_bytes):
    at = page()
    for name in ("zidane.jpg", "bus.jpg"):
        analyze(at, photo_bytes[name], name)
        table = at.dataframe[0].value
        ranked = [f"{rank}. {cls}" for rank, cls in zip(table["rank"], table["class"], strict=True)]
        assert chart_order(at) == ranked[: len(chart_order(at))], name
        analysis = at.session_state["analysis"]
        assert [label.text.split()[0] for label in labels(analysis)] == [f"#{r}" for r in table["rank"]]
        rows = list(csv.DictReader(io.StringIO(objects_csv([analysis]))))
        assert [int(r["rank"]) for r in rows] == list(table["rank"])
        objects = json.loads(result_json(analysis))["objects"]
        assert [o["rank"] for o in objects] == list(table["rank"])
        assert "closeness: 1 = the nearest point of this photo, 0 = the farthest" in texts(at.caption)


def test_new_thresholds_update_the_result_at_once_from_the_depth_cache(page, photo_bytes):
    # Pixels no other test sent: the platform's depth cache has not seen them yet.
    unseen = encode(ImageOps.mirror(Image.open(io.BytesIO(photo_bytes["bus.jpg"]))), "JPEG")
    at = analyze(page(), unseen, "mirrored-bus.jpg")
    before = at.session_state["analysis"]
    assert "inference" in before.depth.raw["timing_ms"]

    at.slider(key="conf").set_value(0.5).run()  # no click on Analyze
    after = at.session_state["analysis"]
    assert after is not before and after.options["conf"] == 0.5
    assert "cache_hit" in after.depth.raw["timing_ms"] and "inference" not in after.depth.raw["timing_ms"]
    assert (at.dataframe[0].value["confidence"] >= 0.5).all()
    assert not at.warning


def test_a_new_photo_is_shown_at_once_and_old_results_are_not(page, photo_bytes):
    at = analyze(page(), photo_bytes["bus.jpg"])
    at.file_uploader(key="upload").set_value(("zidane.jpg", photo_bytes["zidane.jpg"], "image/jpeg")).run()
    assert "zidane.jpg · click Analyze" in captions(at)
    assert not at.dataframe and "Original · bus.jpg" not in captions(at)


def test_without_a_cached_depth_map_changed_controls_mark_the_result_out_of_date(page, dead_url, photo_bytes):
    at = analyze(page(depth_url=dead_url), photo_bytes["bus.jpg"])
    at.slider(key="iou").set_value(0.7).run()
    warning = texts(at.warning)
    assert "Out of date:" in warning and "IoU 0.45" in warning
    assert at.session_state["analysis"].options["iou"] == 0.45  # nothing re-ran


def test_each_step_shows_its_time_and_a_busy_api_is_retried_visibly(page, platform, photo_bytes):
    with proxy_for(platform.depth_url) as depth:
        depth.script = [(503, {"Retry-After": "1"}, BUSY)]
        at = analyze(page(depth_url=depth.url), photo_bytes["bus.jpg"])
        assert depth.posts == 2
    lines = step_lines(at)
    assert "Detecting objects · done in" in lines
    assert "Estimating depth · done in" in lines and "busy, retried 1×" in lines
    assert at.status[0].label == "Analysis finished" and len(at.dataframe[0].value) > 0


def test_a_failed_call_refreshes_the_service_health_in_the_sidebar(page, platform, photo_bytes):
    with proxy_for(platform.depth_url) as depth:
        at = page(depth_url=depth.url)
        assert "Depth API: ok" in texts(at.sidebar.success)
        depth.off = True
        analyze(at, photo_bytes["bus.jpg"])
    assert "No depth." in texts(at.warning)
    assert "Depth API: unavailable" in texts(at.sidebar.error)


def batch_upload(at, files):
    at.radio(key="mode").set_value("Many photos").run()
    at.file_uploader(key="batch_upload").set_value(files).run()
    assert not at.exception, at.exception
    return at


def test_many_photos_and_a_zip_give_a_gallery_and_one_csv_and_json(page, photo_bytes):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("trip/zidane.jpg", photo_bytes["zidane.jpg"])
        zipped.writestr("trip/readme.txt", "not a photo")
        zipped.writestr("__MACOSX/._zidane.jpg", "resource fork")
    files = [
        ("bus.jpg", photo_bytes["bus.jpg"], "image/jpeg"),
        ("TEST.jpg", photo_bytes["TEST.jpg"], "image/jpeg"),
        ("more.zip", archive.getvalue(), "application/zip"),
    ]
    at = batch_upload(page(), files)
    assert "trip/readme.txt" in texts(at.error) and ".txt files are not accepted" in texts(at.error)
    at.button(key="analyze_batch").click().run(timeout=180)
    assert not at.exception, at.exception

    assert [s.label for s in at.status] == [
        "1/3 · bus.jpg finished",
        "2/3 · TEST.jpg finished",
        "3/3 · trip/zidane.jpg finished",
    ]
    gallery = [c for c in captions(at) if " · " in c]
    assert len(gallery) == 3 and all("Nearest:" in c for c in gallery), gallery
    results = at.session_state["batch"]
    rows = list(csv.DictReader(io.StringIO(objects_csv(results))))
    assert list(rows[0]) == [
        "photo",
        "rank",
        "class",
        "confidence",
        "x1",
        "y1",
        "x2",
        "y2",
        "depth",
        "closeness",
    ]
    for analysis in results:
        mine = [r for r in rows if r["photo"] == analysis.photo.name]
        assert len(mine) == len(analysis.depth.objects) > 0
        assert [int(r["rank"]) for r in mine] == list(range(1, len(mine) + 1))
    assert {b.label for b in at.get("download_button")} >= {"All objects (CSV)", "All results (JSON)"}


def test_one_failed_photo_does_not_stop_the_rest(page, platform, photo_bytes):
    with proxy_for(platform.detection_url) as detection:
        detection.script = [(500, {}, {"success": False, "error": "boom", "code": "internal_error"})]
        at = batch_upload(
            page(detection_url=detection.url),
            [(n, photo_bytes[n], "image/jpeg") for n in ("bus.jpg", "zidane.jpg")],
        )
        at.button(key="analyze_batch").click().run(timeout=180)
    labels_ = [s.label for s in at.status]
    assert labels_ == ["1/2 · bus.jpg finished with problems", "2/2 · zidane.jpg finished"]
    gallery = [c for c in captions(at) if " · " in c]
    assert "failed: The detection API failed (HTTP 500): boom" in gallery[0] and "Nearest:" in gallery[1]
    assert "1 with problems" in texts(at.subheader)
