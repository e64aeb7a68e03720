"""The web page: ``streamlit run ui/app.py``.

Page code only: it renders what :mod:`ui.client` returns and :mod:`ui.report` shapes.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

if __package__ in (None, ""):  # `streamlit run ui/app.py` puts ui/, not the repository, on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import altair as alt
import pandas as pd
import streamlit as st
from PIL import Image

from ui.client import ApiCallError, ApiClient, DepthResult, Detection, Health, Service
from ui.drawing import NotAnImage, encode, open_upright
from ui.identity import SignInConfig, show_signed_in_user
from ui.report import (
    Analysis,
    Photo,
    annotated_picture,
    closeness_by_object,
    nearest_sentence,
    object_rows,
    result_json,
)
from ui.settings import MAX_PIXELS, MAX_UPLOAD_MB, UiSettings

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
UPLOAD_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "gif"]
SOURCES = ("Upload a photo", "Use a sample")
DEMO_BANNER = (
    "**Demo mode**: the APIs run random-weight models built offline. Boxes, classes and depth are "
    "meaningless; they only show how the page works. Run `make run` with the real models for real results."
)
RESULT_TTL = "10m"
CHART_OBJECTS = 15
MARKUP = re.compile(r"([\\`*_\[\]<>#|~$])")


def plain(text: str) -> str:
    """``text`` shown as written in Streamlit's Markdown: file names and API messages are not markup."""
    return MARKUP.sub(r"\\\1", text)


@st.cache_resource
def get_client(settings_json: str) -> ApiClient:
    """One client (and connection pool) per configuration, shared by every session."""
    return ApiClient(UiSettings.model_validate_json(settings_json))


@st.cache_data(ttl=10, show_spinner=False)
def check_health(_client: ApiClient, service: Service, url: str) -> Health:
    return _client.health(service)


@st.cache_data(max_entries=8, show_spinner=False)
def decode(data: bytes) -> Image.Image:
    """The upright picture of an upload, decoded once rather than on every rerun."""
    return open_upright(data, max_pixels=MAX_PIXELS)


@st.cache_data(ttl=RESULT_TTL, max_entries=32, show_spinner=False)
def detect(
    _client: ApiClient, url: str, data: bytes, name: str, conf: float, iou: float, classes: tuple[str, ...]
) -> Detection:
    return _client.detect(data, name, conf=conf, iou=iou, classes=list(classes))


@st.cache_data(ttl=RESULT_TTL, max_entries=32, show_spinner=False)
def predict_depth(
    _client: ApiClient, url: str, data: bytes, name: str, detections: list | None
) -> DepthResult:
    return _client.predict_depth(data, name, detections)


def sidebar(client: ApiClient) -> dict:
    """Service health and the detection controls; returns the chosen options."""
    st.sidebar.header("Services")
    healths = {service: check_health(client, service, client.url(service)) for service in Service}
    for health in healths.values():
        name = health.service.heading
        if health.ok:
            st.sidebar.success(f"{name}: ok" + (f" · model {plain(health.model)}" if health.model else ""))
        else:
            st.sidebar.error(
                f"{name}: {plain(health.status)}" + (f" · {plain(health.detail)}" if health.detail else "")
            )
    st.sidebar.header("Detection")
    conf = st.sidebar.slider(
        "Confidence threshold",
        0.05,
        0.95,
        0.25,
        0.05,
        key="conf",
        help="Objects the model is less sure of are left out.",
    )
    iou = st.sidebar.slider(
        "IoU threshold (overlap)",
        0.1,
        0.9,
        0.45,
        0.05,
        key="iou",
        help="Overlapping boxes of the same class above this overlap are merged.",
    )
    classes = st.sidebar.multiselect(
        "Only these classes",
        healths[Service.DETECTION].classes,
        key="classes",
        placeholder="All classes",
        help="Leave empty for every class the model knows.",
    )
    return {"conf": conf, "iou": iou, "classes": list(classes)}


def choose_photo() -> Photo | None:
    """The uploaded or sample photo, decoded; ``None`` (with a message) when there is none usable."""
    source = st.radio("Photo", SOURCES, horizontal=True, key="source", label_visibility="collapsed")
    if source == SOURCES[0]:
        upload = st.file_uploader(
            f"Photo ({', '.join(UPLOAD_TYPES)}; up to {MAX_UPLOAD_MB} MB)", type=UPLOAD_TYPES, key="upload"
        )
        if upload is None:
            return None
        name, data = upload.name, upload.getvalue()
    else:
        samples = sorted(p.name for p in SAMPLES_DIR.glob("*.jpg"))
        name = st.selectbox("Sample photo", samples, key="sample")
        data = (SAMPLES_DIR / name).read_bytes()
    if len(data) > MAX_UPLOAD_MB * 1024 * 1024:
        st.error(f"{plain(name)} is {len(data) / 1e6:.1f} MB; the limit is {MAX_UPLOAD_MB} MB.")
        return None
    try:
        picture = decode(data)
    except NotAnImage as exc:
        st.error(f"{plain(name)}: {plain(str(exc))}.")
        return None
    return Photo(name=name, data=data, picture=picture)


def analyze(client: ApiClient, photo: Photo, options: dict) -> Analysis:
    """Call both APIs with progress; a failure of one is recorded, never raised."""
    results: dict = {}
    with st.status("Analyzing…", expanded=True) as status:
        st.write("Detecting objects…")
        try:
            results["detection"] = detect(
                client,
                client.url(Service.DETECTION),
                photo.data,
                photo.name,
                options["conf"],
                options["iou"],
                tuple(options["classes"]),
            )
            st.write(f"Found {len(results['detection'].objects)} objects.")
        except ApiCallError as exc:
            results["detection_error"] = exc
            st.write(f"Detection failed: {plain(str(exc))}")
        st.write("Estimating depth…")
        try:
            detection = results.get("detection")
            results["depth"] = predict_depth(
                client,
                client.url(Service.DEPTH),
                photo.data,
                photo.name,
                detection.raw_detections if detection else None,
            )
            st.write("Depth map ready.")
        except ApiCallError as exc:
            results["depth_error"] = exc
            st.write(f"Depth failed: {plain(str(exc))}")
        failed = "detection_error" in results or "depth_error" in results
        status.update(
            label="Analysis finished with problems" if failed else "Analysis finished",
            state="error" if failed else "complete",
            expanded=False,
        )
    return Analysis(photo=photo, options=options, **results)


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
    original.image(analysis.photo.picture, caption=f"Original · {analysis.photo.name}")
    if annotated is not None:
        detections.image(
            annotated, caption="Detections, nearest first" if analysis.has_ranking else "Detections"
        )
    else:
        detections.info("No detections: the detection API gave no answer.")
    if analysis.depth is not None:
        depth.image(analysis.depth.colored, caption="Depth map (warm = near)")
        with st.expander("Side by side: photo and depth map", expanded=False):
            st.image(analysis.depth.side_by_side, caption="Photo and depth map side by side")
    else:
        depth.info("No depth map: the depth API gave no answer.")


def show_objects(analysis: Analysis) -> None:
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
    table.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        key="objects",
        column_config={
            "closeness": st.column_config.ProgressColumn(
                "closeness",
                min_value=0.0,
                max_value=1.0,
                format="%.2f",
                help="1 = nearest point of the photo, 0 = farthest",
            ),
            "confidence": st.column_config.NumberColumn("confidence", format="percent"),
        },
    )
    closeness = closeness_by_object(analysis, limit=CHART_OBJECTS)
    if closeness:
        data = pd.DataFrame({"object": list(closeness), "closeness": list(closeness.values())})
        bars = (
            alt.Chart(data)
            .mark_bar()
            .encode(
                x=alt.X("closeness:Q", scale=alt.Scale(domain=[0, 1]), title="closeness (1 = nearest point)"),
                y=alt.Y("object:N", sort=None, title=None, axis=alt.Axis(labelOverlap=False)),
                tooltip=["object", "closeness"],
            )
            .properties(height=max(120, 24 * len(closeness)))
        )
        chart.altair_chart(bars, width="stretch")
        if len(closeness) < len(rows):
            chart.caption(f"The {len(closeness)} nearest of {len(rows)} objects.")


def show_depth_stats(depth: DepthResult) -> None:
    st.subheader("Depth of the whole photo")
    for column, (label, value) in zip(
        st.columns(4),
        (
            ("min", depth.stats.min),
            ("max", depth.stats.max),
            ("mean", depth.stats.mean),
            ("std", depth.stats.std),
        ),
        strict=True,
    ):
        column.metric(label, f"{value:.3g}{' m' if depth.is_metric else ''}")
    st.caption(f"{depth.meaning} Model: {plain(depth.model or 'unknown')}.")


def show_downloads(analysis: Analysis, annotated: Image.Image | None) -> None:
    stem = Path(analysis.photo.name).stem
    columns = st.columns(3)
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
    columns[2].download_button(
        "Full result (JSON)",
        result_json(analysis),
        f"{stem}-result.json",
        "application/json",
        key="download_json",
        on_click="ignore",
    )


def main() -> None:
    st.set_page_config(page_title="Objects and depth", page_icon="📷", layout="wide")
    show_signed_in_user(st.sidebar, st.context.headers, SignInConfig.from_environment())
    settings = UiSettings()
    client = get_client(settings.model_dump_json())
    st.session_state.setdefault("analysis", None)

    if settings.demo:
        st.warning(DEMO_BANNER, icon="⚠️")
    st.title("What is in this photo, and what is nearest?")
    options = sidebar(client)
    photo = choose_photo()
    if st.button("Analyze", type="primary", disabled=photo is None, key="analyze") and photo is not None:
        st.session_state.analysis = analyze(client, photo, options)

    analysis: Analysis | None = st.session_state.analysis
    if analysis is None:
        if photo is not None:
            st.image(photo.picture, caption=f"{photo.name} · click Analyze", width=480)
        return
    if photo is not None and photo.digest != analysis.photo.digest:
        st.caption(
            f"Showing the results for {plain(analysis.photo.name)}; click Analyze for {plain(photo.name)}."
        )
    annotated = annotated_picture(analysis)
    show_problems(analysis)
    show_pictures(analysis, annotated)
    show_objects(analysis)
    if analysis.depth is not None:
        show_depth_stats(analysis.depth)
    show_downloads(analysis, annotated)


main()
