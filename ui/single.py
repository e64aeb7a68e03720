"""The one-photo flow: choose a photo, analyse it, and show pictures, objects, depth and downloads.

Results follow the controls: a new photo is shown at once (old results hidden); new thresholds or
classes on an analysed photo re-run the analysis at once when that is cheap (the depth API keeps the
photo's depth map), and otherwise mark the shown result as out of date.
"""

from __future__ import annotations

import io
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st
from PIL import Image

from ui.client import ApiClient, DepthResult
from ui.drawing import encode, for_display
from ui.markup import plain
from ui.report import (
    Analysis,
    Photo,
    annotated_picture,
    closeness_by_object,
    nearest_sentence,
    object_rows,
    objects_csv,
    result_json,
)
from ui.steps import analyze, cancel_button, was_cancelled
from ui.uploads import PHOTO_TYPES, Refusal, check_photo

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
SOURCES = ("Upload a photo", "Use a sample")
CHART_OBJECTS = 15
CLOSENESS_HELP = (
    "Where the middle of the object lies between the farthest (0) and the nearest (1) point of this "
    "photo's depth map. The nearest object is often well below 1: the nearest point of a photo is "
    "usually the ground just in front of the camera."
)


def choose_photo() -> Photo | None:
    """The uploaded or sample photo, decoded; ``None`` (with the reason in words) when there is none."""
    source = st.radio("Photo", SOURCES, horizontal=True, key="source", label_visibility="collapsed")
    if source == SOURCES[0]:
        upload = st.file_uploader(
            f"Photo ({', '.join(PHOTO_TYPES)}; up to 16 MB and 40 megapixels)",
            key="upload",
            help="Any other file is refused here, with the reason.",
        )
        if upload is None:
            return None
        name, data = upload.name, upload.getvalue()
    else:
        samples = sorted(p.name for p in SAMPLES_DIR.glob("*.jpg"))
        name = st.selectbox("Sample photo", samples, key="sample")
        data = (SAMPLES_DIR / name).read_bytes()
    checked = check_photo(name, data)
    if isinstance(checked, Refusal):
        st.error(f"**Refused: {plain(checked.name)}**. {plain(checked.reason)}")
        return None
    return checked


def options_text(options: dict) -> str:
    classes = ", ".join(options["classes"]) or "all classes"
    return f"confidence ≥ {options['conf']:.2f}, IoU {options['iou']:.2f}, {classes}"


def single_photo(client: ApiClient, options: dict) -> Analysis | None:
    """The whole one-photo flow; returns the analysis run in this page run, if any."""
    photo = choose_photo()
    clicked = st.button("Analyze", type="primary", disabled=photo is None, key="analyze")
    shown: Analysis | None = st.session_state.get("analysis")
    if was_cancelled():
        st.info("Analysis cancelled. Click Analyze to try again.")
    ran = None
    if photo is not None and (clicked or _cheap_update(shown, photo, options)):
        cancel = cancel_button()
        ran = shown = st.session_state.analysis = analyze(client, photo, options)
        cancel.empty()
        st.session_state.analysis_serial = st.session_state.get("analysis_serial", 0) + 1
    if photo is None or shown is None or shown.photo.digest != photo.digest:
        if photo is not None:  # a new photo, shown at once; results of another photo are not
            st.image(for_display(photo.picture), caption=f"{photo.name} · click Analyze", width=480)
        return ran
    if shown.options != options:
        st.warning(
            f"**Out of date:** these results are for {plain(options_text(shown.options))}. "
            "Click Analyze to update them."
        )
    show_analysis(shown)
    return ran


def _cheap_update(shown: Analysis | None, photo: Photo, options: dict) -> bool:
    """True when the controls changed for the photo shown and its depth map is cached by the API."""
    return (
        shown is not None
        and not was_cancelled()
        and shown.photo.digest == photo.digest
        and shown.options != options
        and shown.depth is not None
    )


def show_analysis(analysis: Analysis) -> None:
    key = f"objects-{st.session_state.get('analysis_serial', 0)}"
    selected = _selected_row(key)
    annotated = annotated_picture(analysis, selected=selected)
    show_problems(analysis)
    show_pictures(analysis, annotated)
    show_objects(analysis, key)
    if analysis.depth is not None:
        show_depth_stats(analysis.depth)
    show_downloads(analysis, annotated)


def _selected_row(key: str) -> int | None:
    state = st.session_state.get(key)
    rows = state["selection"]["rows"] if state else []
    return rows[0] if rows else None


def show_problems(analysis: Analysis) -> None:
    if analysis.detection_error is not None:
        st.error(
            f"**No detections.** {plain(str(analysis.detection_error))} "
            + ("The depth map is shown below without objects." if analysis.depth else "")
        )
    if analysis.depth_error is not None:
        st.warning(
            f"**No depth.** {plain(str(analysis.depth_error))} "
            + ("The detections are shown without distances." if analysis.detection else "")
        )


def show_pictures(analysis: Analysis, annotated: Image.Image | None) -> None:
    original, detections, depth = st.columns(3)
    original.image(for_display(analysis.photo.picture), caption=f"Original · {analysis.photo.name}")
    if annotated is not None:
        caption = "Detections, nearest first" if analysis.has_ranking else "Detections"
        detections.image(for_display(annotated), caption=caption)
    else:
        detections.info("No detections: the detection API gave no answer.")
    if analysis.depth is not None:
        depth.image(_picture(analysis.depth.colored), caption="Depth map (warm = near)")
        with st.expander("Side by side: photo and depth map", expanded=False):
            st.image(_picture(analysis.depth.side_by_side), caption="Photo and depth map side by side")
    else:
        depth.info("No depth map: the depth API gave no answer.")


@st.cache_data(max_entries=8, show_spinner=False)
def _picture(data: bytes) -> Image.Image:
    """A depth picture from the API, decoded and made displayable once rather than on every rerun."""
    with Image.open(io.BytesIO(data)) as picture:
        return for_display(picture.convert("RGB"))


def show_objects(analysis: Analysis, key: str) -> None:
    rows = object_rows(analysis)
    st.subheader("Objects, nearest first" if analysis.has_ranking else "Objects")
    sentence = nearest_sentence(analysis)
    if sentence:
        st.markdown(f"### {plain(sentence)}")
    if analysis.detection is not None and not rows:
        st.info("No objects found. Try a lower confidence threshold or fewer class filters.")
        return
    if not rows:
        return
    table, chart = st.columns([3, 2])
    depth_label = "depth (m)" if analysis.depth and analysis.depth.is_metric else "depth (relative)"
    table.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        key=key,
        on_select="rerun",
        selection_mode="single-row",
        column_config={
            "closeness": st.column_config.ProgressColumn(
                "closeness", min_value=0.0, max_value=1.0, format="%.2f", help=CLOSENESS_HELP
            ),
            "confidence": st.column_config.NumberColumn("confidence", format="percent"),
            "depth": st.column_config.NumberColumn(
                depth_label, format="%.3g", help=analysis.depth.meaning if analysis.depth else None
            ),
        },
    )
    table.caption("Select a row to highlight its object on the picture.")
    if analysis.depth is not None and analysis.has_ranking:
        table.caption(
            f"closeness: 1 = the nearest point of this photo, 0 = the farthest. {analysis.depth.meaning}"
        )
    show_chart(analysis, chart, len(rows))


def show_chart(analysis: Analysis, where, row_count: int) -> None:
    closeness = closeness_by_object(analysis, limit=CHART_OBJECTS)
    if not closeness:
        return
    order = list(closeness)  # nearest first, as in the table: never an order left from an earlier chart
    data = pd.DataFrame({"object": order, "closeness": list(closeness.values())})
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(
                "closeness:Q",
                scale=alt.Scale(domain=[0, 1]),
                title="closeness (0 = farthest, 1 = nearest)",
            ),
            y=alt.Y("object:N", sort=order, title=None, axis=alt.Axis(labelOverlap=False)),
            tooltip=["object", "closeness"],
        )
        .properties(height=max(120, 24 * len(closeness)))
    )
    where.altair_chart(bars, width="stretch")
    if len(closeness) < row_count:
        where.caption(f"The {len(closeness)} nearest of {row_count} objects.")


def show_depth_stats(depth: DepthResult) -> None:
    st.subheader("Depth of the whole photo")
    values = (
        ("min", depth.stats.min),
        ("max", depth.stats.max),
        ("mean", depth.stats.mean),
        ("std", depth.stats.std),
    )
    for column, (label, value) in zip(st.columns(4), values, strict=True):
        column.metric(label, f"{value:.3g}{' m' if depth.is_metric else ''}")
    st.caption(f"{depth.meaning} Model: {plain(depth.model or 'unknown')}.")


def show_downloads(analysis: Analysis, annotated: Image.Image | None) -> None:
    stem = Path(analysis.photo.name).stem
    columns = st.columns(4)
    if annotated is not None:
        columns[0].download_button(
            "Annotated image",
            encode(annotated, "JPEG"),
            f"{stem}-objects.jpg",
            "image/jpeg",
            key="download_annotated",
            on_click="ignore",
        )
    if analysis.depth is not None:
        extension = analysis.depth.picture_type.removeprefix("image/").replace("jpeg", "jpg")
        columns[1].download_button(
            "Depth map",
            analysis.depth.colored,
            f"{stem}-depth.{extension}",
            analysis.depth.picture_type,
            key="download_depth",
            on_click="ignore",
        )
    if analysis.detection is not None:
        columns[2].download_button(
            "Objects (CSV)",
            objects_csv([analysis]),
            f"{stem}-objects.csv",
            "text/csv",
            key="download_csv",
            on_click="ignore",
        )
    columns[3].download_button(
        "Full result (JSON)",
        result_json(analysis),
        f"{stem}-result.json",
        "application/json",
        key="download_json",
        on_click="ignore",
    )
