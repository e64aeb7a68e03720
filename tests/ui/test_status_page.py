"""The status page against the running platform: health, model, backend and device of each API, and
charts of the last minutes fed by real requests to the APIs."""

from __future__ import annotations

import time

import pandas as pd
import pyarrow as pa
import pytest
import requests
from streamlit.testing.v1 import AppTest

from tests.support.servers import REPO_ROOT
from ui.live_metrics import COLUMNS, REFRESH_S

STATUS_SCRIPT = REPO_ROOT / "ui" / "pages" / "status.py"


@pytest.fixture()
def status_page(monkeypatch, platform):
    def build(**urls: str) -> AppTest:
        monkeypatch.setenv("DETECTION_API_URL", urls.get("detection_url", platform.detection_url))
        monkeypatch.setenv("DEPTH_API_URL", urls.get("depth_url", platform.depth_url))
        return AppTest.from_file(str(STATUS_SCRIPT), default_timeout=60)

    return build


def _detect(platform, images_dir, times: int) -> list[int]:
    photo = (images_dir / "bus.jpg").read_bytes()
    return [
        requests.post(
            f"{platform.detection_url}/detect", files={"image": ("bus.jpg", photo, "image/jpeg")}, timeout=60
        ).status_code
        for _ in range(times)
    ]


def _data(chart) -> pd.DataFrame:
    proto = chart.proto
    payload = proto.datasets[0].data.data if proto.datasets else proto.data.data
    frame = pa.ipc.open_stream(payload).read_all().to_pandas()
    # A chart of several series holds them in long form (a colour and a value column).
    color = [column for column in frame if column.startswith("color")]
    if not color:
        return frame.set_index("time")
    value = next(column for column in frame if column.startswith("value"))
    return frame.pivot_table(index="time", columns=color[0], values=value, dropna=False)


def test_the_page_shows_each_api_and_charts_fed_by_real_requests(status_page, platform, images_dir):
    page = status_page().run()
    assert not page.exception
    shown = [message.value for message in page.success]
    assert any(m.startswith("Detection API: ok") and "backend" in m and "device" in m for m in shown), shown
    assert any(m.startswith("Depth API: ok") for m in shown), shown
    assert _detect(platform, images_dir, 3) == [200, 200, 200]
    time.sleep(REFRESH_S / 2 + 0.5)
    page.run()
    assert not page.exception
    frames = [_data(chart) for chart in page.get("vega_lite_chart")]
    assert len(frames) == 8  # four per API
    detection = {column: frame[column] for frame in frames[:4] for column in frame}
    depth = {column: frame[column] for frame in frames[4:] for column in frame}
    assert set(detection) == set(depth) == set(COLUMNS)
    assert detection["requests/s"].iloc[-1] > 0
    assert 0 < detection["p50 s"].iloc[-1] <= detection["p95 s"].iloc[-1] <= detection["p99 s"].iloc[-1]
    assert detection["shed %"].iloc[-1] == 0
    assert detection["queue wait p95 s"].iloc[-1] >= 0
    assert depth["requests/s"].iloc[-1] == 0


def test_an_api_that_does_not_answer_is_shown_as_such(status_page, dead_url):
    page = status_page(depth_url=dead_url).run()
    assert not page.exception
    assert [e.value for e in page.error] == [f"Depth API: unreachable · nothing answers at {dead_url}"]
    assert [w.value for w in page.warning] == ["The depth API does not answer /metrics."]
    assert any(m.value.startswith("Detection API: ok") for m in page.success)
