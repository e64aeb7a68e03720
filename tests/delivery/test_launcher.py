"""``make run``'s launcher: its plan comes from the routes table; it fails fast and stops what it started.

The happy path (demo mode up, Ctrl-C stops everything) is the ``platform`` fixture every page test uses.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time

import psutil
import pytest
import requests

from delivery import launcher
from delivery.routes import DEPTH, DETECTION, UI
from tests.support.servers import REPO_ROOT, free_port, guarded_env
from tests.ui import conftest as ui_platform
from tests.ui.conftest import launch_platform

# The demo models the page tests build once (their package-scoped fixture), shared here.
demo_cache = ui_platform.demo_cache


def test_plan_takes_ports_and_health_paths_from_the_routes_table(tmp_path):
    ports = {DETECTION.name: DETECTION.port, DEPTH.name: DEPTH.port, UI.name: 8501}
    detection, depth, ui = launcher.plan(
        host="127.0.0.1", ports=ports, log_dir=tmp_path, extra_env={"X": "1"}
    )

    assert detection.health_url == "http://127.0.0.1:5001/yoloapi/health"
    assert depth.health_url == "http://127.0.0.1:5050/depthapi/health"
    assert ui.health_url == "http://127.0.0.1:8501/_stcore/health"
    assert detection.command[-1] == "apis.detection.wsgi:app" and depth.command[-1] == "apis.depth.wsgi:app"
    assert detection.command[3:7] == ["-c", "python:apis.core.gunicorn_conf", "--bind", "127.0.0.1:5001"]
    assert ui.command[2:5] == ["streamlit", "run", str(REPO_ROOT / "ui" / "app.py")]
    assert ui.env["DETECTION_API_URL"] == "http://127.0.0.1:5001/yoloapi"
    assert ui.env["DEPTH_API_URL"] == "http://127.0.0.1:5050/depthapi"
    assert all(child.env["X"] == "1" for child in (detection, depth, ui))


def test_a_taken_port_is_refused_before_anything_starts():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(launcher.LaunchError, match=f"port {port} .*already in use.*--ui-port"):
            launcher.check_ports_free("127.0.0.1", {"detection": free_port(), "ui": port})


def leave_time_wait_on(port: int) -> None:
    """A closed server-side connection on ``port`` in TIME_WAIT, as a stopped server leaves behind."""
    with socket.create_server(("127.0.0.1", port)) as listener:
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = listener.accept()
        accepted.close()  # the server closes first, so its side waits in TIME_WAIT
        client.recv(1)
        client.close()
    assert time_wait_on(port), "the test could not put a connection in TIME_WAIT"


def time_wait_on(port: int) -> bool:
    """Whether a TCP connection of local port ``port`` is in TIME_WAIT."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if any(
            c.status == psutil.CONN_TIME_WAIT and c.laddr and c.laddr.port == port
            for c in psutil.net_connections(kind="tcp")
        ):
            return True
        time.sleep(0.05)
    return False


def test_connections_left_in_time_wait_do_not_block_a_restart():
    port = free_port()
    leave_time_wait_on(port)
    launcher.check_ports_free("127.0.0.1", {"ui": port})


def test_a_listening_process_is_named_in_the_message():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(launcher.LaunchError, match=rf"port {port} \(ui\) is already in use by PID \d+"):
            launcher.check_ports_free("127.0.0.1", {"ui": port})


@pytest.mark.slow
def test_the_platform_starts_again_at_once_after_a_stop(demo_cache, tmp_path):
    """Ctrl-C with a page visitor still connected, then `make run` again at once: it starts."""
    ports = {name: free_port() for name in ("ui", "detection", "depth")}
    visitor = requests.Session()
    with launch_platform(demo_cache, tmp_path / "first", ports) as first:
        assert visitor.get(first.ui_url + UI.health_path, timeout=10).text == "ok"
    visitor.close()  # the stopped server closed first: its side of the connection is in TIME_WAIT
    assert time_wait_on(ports["ui"])
    with launch_platform(demo_cache, tmp_path / "second", ports) as second:
        assert requests.get(second.ui_url + UI.health_path, timeout=10).text == "ok"


def fake_child(tmp_path, name: str, script: str) -> launcher.Child:
    route = {"detection": DETECTION, "depth": DEPTH, "ui": UI}[name]
    command = [sys.executable, "-c", script]
    return launcher.Child(route, free_port(), command, {}, tmp_path / f"{name}.log")


def test_when_one_service_dies_the_others_are_stopped_and_its_log_shown(tmp_path, capsys):
    sleeper = "import time\nprint('serving', flush=True)\ntime.sleep(60)"
    children = [
        fake_child(tmp_path, "detection", sleeper),
        fake_child(tmp_path, "ui", sleeper),
        fake_child(tmp_path, "depth", "import sys; print('CUDA out of memory', flush=True); sys.exit(3)"),
    ]
    for child in children:
        child.start()
    try:
        assert launcher.supervise(children) == 1
    finally:
        started = time.monotonic()
        launcher.stop_all(children)
    assert time.monotonic() - started < 5
    assert all(child.exit_code() is not None for child in children)
    out = capsys.readouterr().out
    assert "the depth API exited with code 3" in out and "CUDA out of memory" in out


@pytest.mark.slow
def test_real_mode_without_a_model_hub_fails_within_seconds_and_says_what_to_do(tmp_path):
    """Offline (HF_HUB_OFFLINE, no detection download): each API's /health carries the error."""
    ports = [str(free_port()) for _ in range(3)]
    command = [
        sys.executable,
        "-m",
        "delivery.launcher",
        "--models",
        "real",
        "--cache-dir",
        str(tmp_path),
        "--ui-port",
        ports[0],
        "--detection-port",
        ports[1],
        "--depth-port",
        ports[2],
    ]
    netguard_log = tmp_path / "netguard.log"
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=guarded_env(netguard_log),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    launched: dict[int, psutil.Process] = {}
    while process.poll() is None and time.monotonic() - started < 30:
        with contextlib.suppress(psutil.NoSuchProcess):
            launched.update({child.pid: child for child in psutil.Process(process.pid).children()})
        time.sleep(0.1)
    output, _ = process.communicate(timeout=90)
    elapsed = time.monotonic() - started

    assert process.returncode == 1, output
    assert elapsed < 45, f"took {elapsed:.0f} s"
    assert "the detection API could not load its model" in output
    assert "the depth API could not load its model" in output
    assert "make run MODELS=demo" in output
    assert "[objdepth] stopped" in output
    assert len(launched) == 3
    assert not [p for p in launched.values() if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not netguard_log.exists(), netguard_log.read_text()


def test_services_do_not_outlive_a_launcher_killed_without_cleanup(tmp_path):
    """kill -9 of the launcher (no handler runs): the parent-death signal still stops its services."""
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from delivery import launcher\n"
        "from delivery.routes import DETECTION\n"
        "child = launcher.Child(DETECTION, 1, [sys.executable, '-c', 'import time; time.sleep(60)'], {},"
        f" Path({str(tmp_path / 'child.log')!r}))\n"
        "child.start()\n"
        "print(child.process.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    service = psutil.Process(int(parent.stdout.readline()))
    assert service.is_running()
    parent.kill()
    parent.wait(10)
    service.wait(10)  # raises psutil.TimeoutExpired if it is still running
