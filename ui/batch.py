"""Many photos at once: up to 20 photos or a .zip, analysed in one go, a gallery and two downloads."""

from __future__ import annotations

import streamlit as st

from ui.client import ApiClient
from ui.drawing import for_display
from ui.markup import plain
from ui.report import Analysis, annotated_picture, batch_json, nearest_sentence, objects_csv
from ui.steps import analyze, cancel_button, was_cancelled
from ui.uploads import MAX_BATCH, PHOTO_TYPES, batch_files

GALLERY_COLUMNS = 4
THUMBNAIL_SIDE = 640


def many_photos(client: ApiClient, options: dict) -> list[Analysis]:
    """The batch flow; returns the analyses run in this page run (empty when none ran)."""
    uploads = st.file_uploader(
        f"Up to {MAX_BATCH} photos ({', '.join(PHOTO_TYPES)}), or a .zip of them",
        accept_multiple_files=True,
        key="batch_upload",
    )
    photos, refusals = batch_files([(upload.name, upload.getvalue()) for upload in uploads or []])
    if refusals:
        lines = "\n".join(f"- **{plain(r.name)}**: {plain(r.reason)}" for r in refusals)
        st.error(f"**Refused ({len(refusals)}):**\n{lines}")
    if photos:
        st.caption(f"{len(photos)} photos ready: {plain(', '.join(p.name for p in photos))}")
    clicked = st.button("Analyze all", type="primary", disabled=not photos, key="analyze_batch")
    if was_cancelled():
        st.info("Batch cancelled. Click Analyze all to start again.")
    ran: list[Analysis] = []
    if clicked:
        cancel = cancel_button()
        progress = st.progress(0.0, text=f"0 of {len(photos)} photos analysed")
        for number, photo in enumerate(photos, start=1):
            ran.append(analyze(client, photo, options, name=f"{number}/{len(photos)} · {photo.name}"))
            progress.progress(number / len(photos), text=f"{number} of {len(photos)} photos analysed")
        cancel.empty()
        st.session_state.batch = ran
    results: list[Analysis] = st.session_state.get("batch") or []
    if results:
        show_batch(results, options)
    return ran


def photo_summary(analysis: Analysis) -> str:
    """The gallery caption: the photo's nearest object, or what went wrong."""
    problems = [str(e) for e in (analysis.detection_error, analysis.depth_error) if e is not None]
    if analysis.detection is None:
        return f"{analysis.photo.name} · failed: {problems[0]}"
    found = nearest_sentence(analysis) or (
        f"{len(analysis.detection.objects)} objects, no depth" if analysis.detection.objects else "no objects"
    )
    return f"{analysis.photo.name} · {found}" + (f" ({problems[0]})" if problems else "")


def show_batch(results: list[Analysis], options: dict) -> None:
    failed = sum(1 for a in results if a.detection_error or a.depth_error)
    objects = sum(a.object_count for a in results)
    st.subheader(
        f"{len(results)} photos, {objects} objects" + (f", {failed} with problems" if failed else "")
    )
    if results[0].options != options:
        st.warning(
            "**Out of date:** these results were made with other settings. Click Analyze all to update."
        )
    for start in range(0, len(results), GALLERY_COLUMNS):
        for column, analysis in zip(
            st.columns(GALLERY_COLUMNS), results[start : start + GALLERY_COLUMNS], strict=False
        ):
            picture = annotated_picture(analysis) or analysis.photo.picture
            column.image(for_display(picture, THUMBNAIL_SIDE), caption=photo_summary(analysis))
    left, right = st.columns(2)
    left.download_button(
        "All objects (CSV)",
        objects_csv(results),
        "objects.csv",
        "text/csv",
        key="batch_csv",
        on_click="ignore",
    )
    right.download_button(
        "All results (JSON)",
        batch_json(results),
        "results.json",
        "application/json",
        key="batch_json",
        on_click="ignore",
    )
