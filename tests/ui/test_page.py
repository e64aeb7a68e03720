"""The page through Streamlit's AppTest, against the real APIs (tiny random models) run by the launcher."""

from __future__ import annotations

import json

import pytest
import requests

from ui.client import ApiClient, Service
from ui.settings import UiSettings

# Every test here needs the platform (the launcher and three services: 20-40 s to start).
pytestmark = pytest.mark.slow


def analyze(at, data: bytes, name: str = "bus.jpg", mime: str = "image/jpeg"):
    at.file_uploader(key="upload").set_value((name, data, mime)).run()
    assert not at.exception, at.exception
    at.button(key="analyze").click().run()
    assert not at.exception, at.exception
    return at


def captions(at) -> list[str]:
    return [caption for image in at.image for caption in image.captions]


def texts(elements) -> str:
    return "\n".join(str(element.value) for element in elements)


def test_a_photo_gives_pictures_objects_nearest_first_and_downloads(page, platform, photo_bytes):
    at = analyze(page(), photo_bytes["bus.jpg"])

    assert not at.error and not at.warning, texts(at.error) + texts(at.warning)
    assert at.status[0].label == "Analysis finished"
    assert {
        "Original · bus.jpg",
        "Detections, nearest first",
        "Depth map (warm = near)",
        "Photo and depth map side by side",
    } <= set(captions(at))

    table = at.dataframe[0].value
    direct = requests.post(
        f"{platform.detection_url}/detect",
        files={"image": ("bus.jpg", photo_bytes["bus.jpg"])},
        data={"conf": "0.25", "iou": "0.45"},
        timeout=30,
    ).json()
    assert len(table) == direct["detection_count"] > 0
    assert list(table.columns) == ["rank", "class", "confidence", "closeness", "depth", "box"]
    assert list(table["rank"]) == list(range(1, len(table) + 1))
    assert list(table["closeness"]) == sorted(table["closeness"], reverse=True)
    assert table["closeness"].between(0, 1).all()
    nearest = table.iloc[0]
    assert f"Nearest: {nearest['class']} ({nearest['confidence']:.0%} confidence)." in texts(at.markdown)

    assert [m.label for m in at.metric] == ["min", "max", "mean", "std"]
    assert "larger means closer" in texts(at.caption)
    downloads = {button.label for button in at.get("download_button")}
    assert downloads == {"Annotated image", "Depth map", "Objects (CSV)", "Full result (JSON)"}


def test_thresholds_and_class_filter_reach_the_api(page, photo_bytes):
    at = page()
    assert "person" in at.multiselect(key="classes").options  # from the detection API's model-info
    at.slider(key="conf").set_value(0.4)
    at.multiselect(key="classes").set_value(["person"])
    table = analyze(at, photo_bytes["bus.jpg"]).dataframe[0].value
    assert len(table) > 0
    assert set(table["class"]) == {"person"}
    assert (table["confidence"] >= 0.4).all()


def test_a_bundled_sample_can_be_analysed(page):
    at = page()
    at.radio(key="source").set_value("Use a sample").run()
    assert at.selectbox(key="sample").options == ["bus.jpg", "zidane.jpg"]
    at.selectbox(key="sample").set_value("zidane.jpg").run()
    at.button(key="analyze").click().run()
    assert not at.exception and not at.error
    assert "Original · zidane.jpg" in captions(at)
    assert len(at.dataframe[0].value) > 0


def test_sidebar_shows_each_api_and_its_model(page, dead_url):
    at = page()
    sidebar = texts(at.sidebar.success)
    assert "Detection API: ok" in sidebar and "Depth API: ok" in sidebar
    assert "yolo11n-random.pt" in sidebar and "depth-anything-v2-small-random" in sidebar

    at = page(depth_url=dead_url)
    assert "Depth API: unreachable" in texts(at.sidebar.error)


def test_depth_down_still_shows_detections_and_says_so(page, dead_url, photo_bytes):
    at = analyze(page(depth_url=dead_url), photo_bytes["bus.jpg"])

    assert at.status[0].label == "Analysis finished with problems"
    warning = texts(at.warning)
    assert "No depth." in warning and "cannot be reached" in warning and "shown without distances" in warning
    assert "No detections" not in texts(at.error)
    assert "Detections" in captions(at) and "Depth map (warm = near)" not in captions(at)
    table = at.dataframe[0].value
    assert len(table) > 0 and list(table.columns) == ["class", "confidence", "box"]
    assert "No depth map: the depth API gave no answer." in texts(at.info)
    assert {b.label for b in at.get("download_button")} == {
        "Annotated image",
        "Objects (CSV)",
        "Full result (JSON)",
    }


def test_slow_depth_times_out_with_a_message(page, silent_url, photo_bytes):
    at = analyze(page(depth_url=silent_url, UI_DEPTH_TIMEOUT_S="1"), photo_bytes["zidane.jpg"], "zidane.jpg")
    assert "did not answer within 1 s" in texts(at.warning)
    assert "Estimating depth · failed after 1" in texts(at.markdown)
    assert "longer than the usual 1 s" in texts(at.markdown)
    assert len(at.dataframe[0].value) > 0


def test_detection_down_says_so_and_still_offers_the_depth_map(page, dead_url, photo_bytes):
    at = analyze(page(detection_url=dead_url.replace("/depthapi", "/yoloapi")), photo_bytes["bus.jpg"])

    error = texts(at.error)
    assert "No detections." in error and "detection API cannot be reached" in error
    assert "depth map is shown below" in error
    assert "Depth map (warm = near)" in captions(at) and "Detections" not in captions(at)
    assert not at.dataframe  # no objects without detection
    assert {b.label for b in at.get("download_button")} == {"Depth map", "Full result (JSON)"}


def test_result_json_has_both_answers_and_the_errors(page, dead_url, platform, photo_bytes):
    from ui.report import result_json

    at = analyze(page(depth_url=dead_url), photo_bytes["bus.jpg"])
    document = json.loads(result_json(at.session_state["analysis"]))
    assert document["detection"]["detection_count"] == len(at.dataframe[0].value)
    assert document["depth"] is None
    assert document["errors"]["depth"]["failure"] == "unreachable"
    assert document["options"] == {"conf": 0.25, "iou": 0.45, "classes": []}


def test_demo_mode_shows_a_banner(page):
    at = page(OBJDEPTH_DEMO="1")
    assert "Demo mode" in texts(at.warning) and "meaningless" in texts(at.warning)
    assert "Demo mode" not in texts(page().warning)


def test_a_file_that_is_not_an_image_is_refused_before_any_call(page):
    at = page()
    name = "**notes**_[x](http://example.invalid).jpg"
    at.file_uploader(key="upload").set_value((name, b"not a picture at all", "image/jpeg")).run()
    error = texts(at.error)
    assert "the file is not an image" in error
    assert r"\*\*notes\*\*\_\[x\](http://example.invalid).jpg" in error  # the name is shown, not rendered
    assert at.button(key="analyze").disabled


def test_client_reads_the_real_depth_contract(platform, photo_bytes):
    client = ApiClient(UiSettings(detection_api_url=platform.detection_url, depth_api_url=platform.depth_url))
    detection = client.detect(photo_bytes["zidane.jpg"], "zidane.jpg", conf=0.25, iou=0.45)
    depth = client.predict_depth(photo_bytes["zidane.jpg"], "zidane.jpg", detection.raw_detections)
    assert len(depth.objects) == len(detection.objects) > 0
    assert [o.rank for o in depth.objects] == list(range(1, len(depth.objects) + 1))
    assert depth.picture_type in {"image/jpeg", "image/png"}
    assert depth.colored[:2] in (b"\xff\xd8", b"\x89P")
    assert depth.stats.min <= depth.stats.mean <= depth.stats.max
    assert "images" not in depth.raw
    health = client.health(Service.DEPTH)
    assert health.ok and health.model == "depth-anything-v2-small-random"
