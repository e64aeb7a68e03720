"""The status page (a second page of ``streamlit run ui/app.py``): each API's health and its last minutes.

The page's server scrapes each API's ``/metrics`` (never the browser) every ``REFRESH_S`` seconds into a
history shared by all sessions, and charts request rate, latency percentiles, share shed (503) and queue
wait from it (:mod:`ui.live_metrics`).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # `streamlit run` puts ui/pages/, not the repository, on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import streamlit as st

from ui.client import ApiClient, Health, Service
from ui.identity import SignInConfig, show_signed_in_user
from ui.live_metrics import REFRESH_S, WINDOW_MINUTES, History, parse_snapshot, timeline
from ui.markup import plain
from ui.settings import UiSettings


@st.cache_resource
def get_client(settings_json: str) -> ApiClient:
    """One client per configuration, shared by every session (as on the main page)."""
    return ApiClient(UiSettings.model_validate_json(settings_json))


@st.cache_resource
def get_history(settings_json: str) -> History:
    """The scraped snapshots of the APIs at these URLs, kept for the last ``WINDOW_MINUTES``."""
    return History(WINDOW_MINUTES)


def sample(client: ApiClient, history: History, service: Service) -> bool:
    """Scrape the API's ``/metrics`` into the history unless another session just did; False if unanswered."""
    if time.time() - history.latest_at(service) < REFRESH_S / 2:
        return True
    text = client.metrics_text(service)
    if text is None:
        return False
    history.add(service, parse_snapshot(text, service, time.time()))
    return True


def describe(health: Health) -> str:
    if not health.ok:
        return f"{health.service.heading}: {plain(health.status)}" + (
            f" · {plain(health.detail)}" if health.detail else ""
        )
    parts = [f"model {plain(health.model)}" if health.model else ""]
    parts += [f"backend {plain(health.backend)}" if health.backend else ""]
    parts += [f"device {plain(health.device)}" if health.device else ""]
    return f"{health.service.heading}: ok · " + " · ".join(part for part in parts if part)


def show_service(client: ApiClient, history: History, service: Service) -> None:
    health = client.health(service)
    (st.success if health.ok else st.error)(describe(health))
    if not sample(client, history, service):
        st.warning(f"The {service.title} does not answer /metrics.")
    table = timeline(history.snapshots(service))
    if table.empty:
        st.caption(f"Charts appear after two scrapes ({REFRESH_S} s apart).")
        return
    left, right = st.columns(2)
    left.markdown("**Requests per second** (predict route)")
    left.line_chart(table[["requests/s"]], height=180)
    right.markdown("**Latency percentiles** (s)")
    right.line_chart(table[["p50 s", "p95 s", "p99 s"]], height=180)
    left.markdown("**Shed** (% answered 503)")
    left.line_chart(table[["shed %"]], height=180)
    right.markdown("**Queue wait p95** (s)")
    right.line_chart(table[["queue wait p95 s"]], height=180)


@st.fragment(run_every=REFRESH_S)
def live(client: ApiClient, history: History) -> None:
    for service in Service:
        st.subheader(service.heading)
        show_service(client, history, service)


def main() -> None:
    st.set_page_config(page_title="objdepth status", layout="wide")
    show_signed_in_user(st.sidebar, st.context.headers, SignInConfig.from_environment())
    st.title("Status")
    settings_json = UiSettings().model_dump_json()
    st.caption(
        f"Each API's health and its last {WINDOW_MINUTES} minutes, read from its /metrics every "
        f"{REFRESH_S} s by the page's server."
    )
    live(get_client(settings_json), get_history(settings_json))


main()
