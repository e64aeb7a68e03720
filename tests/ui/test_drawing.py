"""Opening uploads, drawing boxes and shaping the report: plain functions, no servers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tests.support.images import encode, gradient, with_exif_orientation
from ui.client import (
    ApiCallError,
    Box,
    DepthResult,
    DepthStats,
    DetectedObject,
    Detection,
    Failure,
    ObjectDepth,
    Service,
)
from ui.drawing import (
    DISPLAY_MAX_RATIO,
    DISPLAY_MAX_SIDE,
    Label,
    NotAnImage,
    draw_labels,
    for_display,
    open_upright,
)
from ui.report import (
    Analysis,
    Photo,
    annotated_picture,
    batch_json,
    closeness_by_object,
    labels,
    nearest_sentence,
    object_rows,
    objects_csv,
    ranked_objects,
    result_json,
)


def photo(width: int = 320, height: int = 240) -> Photo:
    picture = gradient(width, height)
    return Photo("street.png", encode(picture, "PNG"), picture)


def detection() -> Detection:
    objects = [
        DetectedObject("car", 0.91, Box(10, 10, 100, 80)),
        DetectedObject("person", 0.62, Box(150, 60, 200, 230)),
    ]
    return Detection(objects, "yolo11n.pt", raw={"detections": [], "detection_count": 2})


def depth() -> DepthResult:
    objects = [
        ObjectDepth("person", 0.62, Box(150, 60, 200, 230), 7.5, 0.9, 1),
        ObjectDepth("car", 0.91, Box(10, 10, 100, 80), 2.0, 0.2, 2),
    ]
    return DepthResult(
        objects,
        DepthStats(0.0, 8.0, 3.0, 1.5),
        "relative_inverse",
        "da-v2",
        b"",
        b"",
        "image/jpeg",
        raw={"depth_stats": {}},
    )


def test_exif_orientation_is_applied_like_the_apis_do():
    data = with_exif_orientation(gradient(300, 200), 6)  # stored landscape, shown portrait
    assert open_upright(data, max_pixels=10**6).size == (200, 300)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "BMP", "GIF"])
def test_every_offered_format_opens_as_rgb(fmt):
    assert open_upright(encode(gradient(64, 48), fmt), max_pixels=10**6).mode == "RGB"


def test_unreadable_and_oversized_uploads_are_refused_with_a_reason():
    with pytest.raises(NotAnImage, match="not an image"):
        open_upright(b"%PDF-1.7 not a picture", max_pixels=10**6)
    with pytest.raises(NotAnImage, match="limit is 10,000 pixels"):
        open_upright(encode(gradient(200, 100), "PNG"), max_pixels=10_000)
    truncated = encode(gradient(200, 100), "JPEG")[:300]
    with pytest.raises(NotAnImage):
        open_upright(truncated, max_pixels=10**6)


def test_boxes_are_drawn_on_a_copy():
    picture = Image.new("RGB", (200, 120), (255, 255, 255))
    drawn = draw_labels(
        picture,
        [
            Label(Box(20, 40, 120, 110), "#1 person 90%", "person", emphasis=True),
            Label(Box(0, 0, 60, 30), "car 50%", "car"),
        ],
    )
    assert picture.getpixel((20, 70)) == (255, 255, 255)  # the original is untouched
    assert drawn.getpixel((20, 70)) != (255, 255, 255)  # left edge of the first box
    assert drawn.getpixel((70, 80)) == (255, 255, 255)  # inside the box stays clear
    assert np.asarray(drawn)[:40].std() > 0  # a label at the top edge is drawn inside the picture


def test_with_depth_objects_come_nearest_first_with_a_sentence():
    analysis = Analysis(photo(), {"conf": 0.25}, detection=detection(), depth=depth())
    rows = object_rows(analysis)
    assert [(r["rank"], r["class"]) for r in rows] == [(1, "person"), (2, "car")]
    assert rows[0]["box"] == "(150, 60) – (200, 230)"
    assert closeness_by_object(analysis) == {"1. person": 0.9, "2. car": 0.2}
    assert nearest_sentence(analysis) == "Nearest: person (62% confidence)."
    assert [label.text for label in labels(analysis)] == ["#1 person 62%", "#2 car 91%"]
    assert labels(analysis)[0].emphasis


def test_without_depth_objects_come_by_confidence_and_no_ranking_is_claimed():
    error = ApiCallError(Service.DEPTH, Failure.TIMEOUT, "The depth API did not answer within 1 s.")
    analysis = Analysis(photo(), {"conf": 0.25}, detection=detection(), depth_error=error)
    assert [r["class"] for r in object_rows(analysis)] == ["car", "person"]
    assert "rank" not in object_rows(analysis)[0]
    assert nearest_sentence(analysis) is None and closeness_by_object(analysis) == {}
    document = result_json(analysis)
    assert '"failure": "timeout"' in document and '"depth": null' in document
    assert len(document) < 10_000  # no pictures inside


def test_a_non_image_is_refused_even_when_ultralytics_has_patched_image_open():
    """ultralytics replaces PIL.Image.open on import (a HEIF fallback needing pi-heif); tests import it."""
    pytest.importorskip("ultralytics.utils.patches")
    with pytest.raises(NotAnImage, match="not an image"):
        open_upright(b"plain text, not a picture", max_pixels=10**6)


@pytest.mark.parametrize("size", [(10000, 10), (10, 10000), (1, 1), (8000, 5000)])
def test_any_accepted_shape_becomes_a_picture_a_column_can_show(size):
    shown = for_display(Image.new("RGB", size, (9, 99, 199)))
    assert max(shown.size) <= DISPLAY_MAX_SIDE
    assert max(shown.size) / min(shown.size) <= DISPLAY_MAX_RATIO + 0.01
    assert (9, 99, 199) in {colour for _count, colour in shown.getcolors(10_000) or []}  # the photo is in it


@pytest.mark.parametrize(
    ("picture", "fmt"),
    [
        (Image.fromarray(np.full((40, 60), 60000, dtype=np.uint16)), "PNG"),
        (gradient(60, 40).convert("CMYK"), "JPEG"),
        (gradient(60, 40).convert("L"), "JPEG"),
        (gradient(60, 40), "TIFF"),
    ],
    ids=["16-bit", "cmyk", "grayscale", "tiff"],
)
def test_unusual_modes_open_as_8_bit_rgb(picture, fmt):
    opened = open_upright(encode(picture, fmt), max_pixels=10**6)
    assert opened.mode == "RGB" and opened.size == (60, 40)
    if picture.mode == "I;16":
        assert opened.getpixel((0, 0)) == (233, 233, 233)  # 60000 / 257, not clipped to white


def test_an_animation_opens_at_its_first_frame():
    frames = [Image.new("RGB", (30, 20), (0, 0, 255)), Image.new("RGB", (30, 20), (255, 0, 0))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert open_upright(data, max_pixels=10**6).getpixel((5, 5)) == (0, 0, 255)


def many_labels(count: int) -> list[Label]:
    return [Label(Box(10 + 30 * i, 40, 35 + 30 * i, 90), f"#{i + 1} car", "car") for i in range(count)]


def test_only_the_nearest_few_labels_carry_text():
    picture = Image.new("RGB", (400, 120), (255, 255, 255))
    drawn = np.asarray(draw_labels(picture, many_labels(8), text_labels=3))
    boxes_only = np.asarray(draw_labels(picture, many_labels(8), text_labels=0))
    above = slice(0, 39)  # tags sit above each box's top edge
    assert (drawn[above] != boxes_only[above]).any()
    assert (
        drawn[above, 10 + 30 * 5 + 20 :] == boxes_only[above, 10 + 30 * 5 + 20 :]
    ).all()  # 6th on: no text


def test_a_selected_label_stays_bright_and_the_rest_is_dimmed():
    picture = Image.new("RGB", (300, 200), (200, 200, 200))
    drawn = draw_labels(
        picture, [Label(Box(20, 60, 100, 180), "#1 person", "person"), *many_labels(3)[1:]], selected=0
    )
    assert drawn.getpixel((60, 120)) == (200, 200, 200)  # inside the selected box: as it was
    assert sum(drawn.getpixel((250, 20))) < sum((200, 200, 200)) * 0.5  # elsewhere: dimmed
    tag = np.asarray(drawn)[40:60, 20:100]
    assert tag.std() > 0  # the selected one carries its text


def test_every_view_and_download_uses_the_one_ranked_order():
    analysis = Analysis(photo(), {"conf": 0.25}, detection=detection(), depth=depth())
    ranked = ranked_objects(analysis)
    assert [(o["rank"], o["class"]) for o in ranked] == [(1, "person"), (2, "car")]
    assert [label.text for label in labels(analysis)] == ["#1 person 62%", "#2 car 91%"]
    lines = objects_csv([analysis, analysis]).splitlines()
    assert lines[0] == "photo,rank,class,confidence,x1,y1,x2,y2,depth,closeness"
    assert lines[1] == "street.png,1,person,0.62,150,60,200,230,7.5,0.9"
    assert len(lines) == 5
    document = json.loads(batch_json([analysis]))
    assert [o["rank"] for o in document["photos"][0]["objects"]] == [1, 2]
    assert json.loads(result_json(analysis))["objects"] == ranked


def test_a_huge_photo_is_annotated_on_a_smaller_copy_with_its_boxes_scaled():
    picture = Image.new("RGB", (8000, 5000), (255, 255, 255))
    huge = Photo("big.png", b"", picture)
    found = Detection(
        [DetectedObject("car", 0.9, Box(4000, 2000, 6000, 4000))], "yolo", raw={"detections": []}
    )
    annotated = annotated_picture(Analysis(huge, {}, detection=found))
    assert annotated.size == (4096, 2560)
    assert annotated.getpixel((2048, 3000 * 4096 // 8000)) != (255, 255, 255)  # the box's left edge, scaled
    assert annotated.getpixel((2300, 1500)) == (255, 255, 255)  # inside the box stays clear
