"""The whole platform for the UI tests: ``python -m delivery.launcher --models demo`` with tiny models.

One launcher run serves the whole package (AppTest pages, the client and the browser): its demo
cache is filled beforehand with tiny random models, so the launcher's reuse path is exercised and
nothing is built or downloaded. It runs with the network guard, like every server the tests start.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from streamlit.testing.v1 import AppTest

from apis.depth.demo import build_random_depth_anything
from delivery.demo_models import demo_model_paths
from delivery.routes import DEPTH, DETECTION, UI
from tests.support.servers import REPO_ROOT, free_port, run_server

APP_SCRIPT = REPO_ROOT / "ui" / "app.py"
ARTIFACTS = REPO_ROOT / "test-artifacts"
# Gentle on two shared cores: small depth input, one thread per model.
SERVICE_ENV = {
    "DEPTH_INPUT_SIZE": "266",
    "TORCH_THREADS": "1",
    "GUNICORN_THREADS": "2",
    "LOG_LEVEL": "warning",
}
STARTUP_TIMEOUT_S = 150


@dataclass
class Platform:
    """The three running services and the launcher that supervises them."""

    ui_url: str
    detection_url: str
    depth_url: str
    launcher_pid: int
    output_path: Path

    def output(self) -> str:
        return self.output_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="package")
def demo_cache(tmp_path_factory, tiny_yolo_weights) -> Path:
    """A launcher cache holding tiny models where demo mode looks for its random ones."""
    cache = tmp_path_factory.mktemp("objdepth-cache")
    yolo, depth = demo_model_paths(cache)
    yolo.parent.mkdir(parents=True)
    shutil.copy(tiny_yolo_weights, yolo)
    build_random_depth_anything(depth, tiny=True)
    return cache


@contextlib.contextmanager
def launch_platform(cache: Path, workdir: Path, ports: dict[str, int] | None = None) -> Iterator[Platform]:
    """``python -m delivery.launcher --models demo`` on free ports; stopped with SIGINT (Ctrl-C) after."""
    ports = ports or {name: free_port() for name in ("ui", "detection", "depth")}
    command = [
        sys.executable,
        "-m",
        "delivery.launcher",
        "--models",
        "demo",
        "--cache-dir",
        str(cache),
        "--timeout",
        str(STARTUP_TIMEOUT_S),
        "--ui-port",
        str(ports["ui"]),
        "--detection-port",
        str(ports["detection"]),
        "--depth-port",
        str(ports["depth"]),
    ]
    with run_server(
        command, port=ports["ui"], health_path=UI.health_path, workdir=workdir, env=SERVICE_ENV, wait=False
    ) as server:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S + 10
        while "Press Ctrl-C to stop" not in server.output():
            if server.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the launcher did not get the platform up:\n{server.output()[-6000:]}")
            time.sleep(0.5)
        children = psutil.Process(server.process.pid).children(recursive=True)
        yield Platform(
            ui_url=f"http://127.0.0.1:{ports['ui']}",
            detection_url=f"http://127.0.0.1:{ports['detection']}{DETECTION.path_prefix}",
            depth_url=f"http://127.0.0.1:{ports['depth']}{DEPTH.path_prefix}",
            launcher_pid=server.process.pid,
            output_path=server.output_path,
        )
        os.kill(server.process.pid, signal.SIGINT)
        code = server.process.wait(60)
    assert code == 0, server.output()[-4000:]
    assert "building the demo models" not in server.output()  # the cached models were reused
    _gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"left running after Ctrl-C: {[p.pid for p in alive]}"


@pytest.fixture(scope="package")
def platform(demo_cache, tmp_path_factory) -> Iterator[Platform]:
    """The platform every page test uses, started once for the package."""
    with launch_platform(demo_cache, tmp_path_factory.mktemp("launcher")) as running:
        yield running


@pytest.fixture()
def dead_url() -> str:
    """An API URL where nothing listens (a stopped service)."""
    return f"http://127.0.0.1:{free_port()}{DEPTH.path_prefix}"


@pytest.fixture()
def silent_url() -> Iterator[str]:
    """An API URL that accepts connections and never answers (a hung service)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}{DEPTH.path_prefix}"


@pytest.fixture()
def page(monkeypatch, platform):
    """A factory of AppTest pages pointed at the platform's APIs (or at other URLs)."""

    def build(*, detection_url: str | None = None, depth_url: str | None = None, **env: str) -> AppTest:
        monkeypatch.setenv("DETECTION_API_URL", detection_url or platform.detection_url)
        monkeypatch.setenv("DEPTH_API_URL", depth_url or platform.depth_url)
        monkeypatch.delenv("OBJDEPTH_DEMO", raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return AppTest.from_file(str(APP_SCRIPT), default_timeout=60).run()

    yield build
    import streamlit as st

    st.cache_data.clear()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each test's call report on the item, for fixtures that save a screenshot on failure."""
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report
