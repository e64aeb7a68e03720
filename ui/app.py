"""The web page: ``streamlit run ui/app.py``.

Page code only: it renders what :mod:`ui.client` returns and :mod:`ui.report` shapes. The two
flows live in :mod:`ui.single` (one photo) and :mod:`ui.batch` (many photos).
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # `streamlit run ui/app.py` puts ui/, not the repository, on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import streamlit as st

from ui.batch import many_photos
from ui.client import ApiClient, Health, Service
from ui.identity import SignInConfig, show_signed_in_user
from ui.markup import plain
from ui.report import Analysis
from ui.settings import UiSettings
from ui.single import single_photo

DEMO_BANNER = (
    "**Demo mode**: the APIs run random-weight models built offline. Boxes, classes and depth are "
    "meaningless; they only show how the page works. Run `make run` with the real models for real results."
)
MODES = ("One photo", "Many photos")


@st.cache_resource
def get_client(settings_json: str) -> ApiClient:
    """One client (and connection pool) per configuration, shared by every session."""
    return ApiClient(UiSettings.model_validate_json(settings_json))


@st.cache_data(ttl=10, show_spinner=False)
def check_health(_client: ApiClient, service: Service, url: str) -> Health:
    return _client.health(service)


def healths(client: ApiClient) -> dict[Service, Health]:
    return {service: check_health(client, service, client.url(service)) for service in Service}


def show_health(where, found: dict[Service, Health]) -> None:
    where.header("Services")
    for health in found.values():
        name = health.service.heading
        if health.ok:
            where.success(f"{name}: ok" + (f" · model {plain(health.model)}" if health.model else ""))
        else:
            where.error(
                f"{name}: {plain(health.status)}" + (f" · {plain(health.detail)}" if health.detail else "")
            )


def controls(classes: tuple[str, ...]) -> dict:
    """The detection controls in the sidebar; returns the chosen options."""
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
    chosen = st.sidebar.multiselect(
        "Only these classes",
        classes,
        key="classes",
        placeholder="All classes",
        help="Leave empty for every class the model knows.",
    )
    return {"conf": conf, "iou": iou, "classes": list(chosen)}


def had_failure(analyses: list[Analysis]) -> bool:
    return any(a.detection_error is not None or a.depth_error is not None for a in analyses)


def main() -> None:
    st.set_page_config(page_title="Objects and depth", page_icon="📷", layout="wide")
    show_signed_in_user(st.sidebar, st.context.headers, SignInConfig.from_environment())
    settings = UiSettings()
    client = get_client(settings.model_dump_json())

    if settings.demo:
        st.warning(DEMO_BANNER, icon="⚠️")
    st.title("What is in this photo, and what is nearest?")
    health_box = st.sidebar.container()
    found = healths(client)
    options = controls(found[Service.DETECTION].classes)
    mode = st.radio("Mode", MODES, horizontal=True, key="mode", label_visibility="collapsed")
    if mode == MODES[0]:
        ran = single_photo(client, options)
        ran_now = [ran] if ran is not None else []
    else:
        ran_now = many_photos(client, options)
    if had_failure(ran_now):  # a failed call: the sidebar says what the service says now
        check_health.clear()
        found = healths(client)
    show_health(health_box, found)


main()
