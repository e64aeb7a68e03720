"""Run a real server process on 127.0.0.1 for a test, with the network guard inside it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from delivery.routes import ServiceRoute

REPO_ROOT = Path(__file__).resolve().parents[2]
SUPPORT_DIR = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def guarded_env(log_path: Path, **extra: str) -> dict[str, str]:
    """The environment for a child process: offline model libraries plus the network guard."""
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(SUPPORT_DIR / "sitecustomize_dir"), str(REPO_ROOT), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    env["NETGUARD_SUPPORT_DIR"] = str(SUPPORT_DIR)
    env["NETGUARD_LOG"] = str(log_path)
    return env


@dataclass
class RunningServer:
    """A started server: its base URL, process and the file that collects its output."""

    url: str
    process: subprocess.Popen
    output_path: Path
    netguard_log: Path

    def output(self) -> str:
        return self.output_path.read_text(encoding="utf-8", errors="replace")

    def network_violations(self) -> str:
        return self.netguard_log.read_text(encoding="utf-8") if self.netguard_log.exists() else ""


def wait_until_healthy(url: str, process: subprocess.Popen | None = None, timeout_s: float = 120.0) -> None:
    """Poll ``url`` until it answers 200, the process dies, or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before {url} was healthy")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{url} not healthy within {timeout_s:.0f} s")


@contextmanager
def run_server(
    args: list[str],
    *,
    port: int,
    health_path: str,
    workdir: Path,
    env: dict[str, str] | None = None,
    timeout_s: float = 120.0,
    wait: bool = True,
) -> Iterator[RunningServer]:
    """Start ``args`` (which must listen on ``port``), wait for health, stop it with SIGTERM after."""
    workdir.mkdir(parents=True, exist_ok=True)
    output_path = workdir / f"server-{port}.log"
    netguard_log = workdir / f"netguard-{port}.log"
    with output_path.open("w") as output:
        process = subprocess.Popen(
            args,
            cwd=REPO_ROOT,
            env=guarded_env(netguard_log, **(env or {})),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = RunningServer(f"http://127.0.0.1:{port}", process, output_path, netguard_log)
    try:
        if wait:
            try:
                wait_until_healthy(server.url + health_path, process, timeout_s)
            except Exception as exc:
                raise RuntimeError(f"{exc}\n--- server output ---\n{server.output()[-4000:]}") from None
        yield server
    finally:
        stop(process)
    violations = server.network_violations()
    assert not violations, f"server tried to leave loopback:\n{violations}"


def stop(process: subprocess.Popen, timeout_s: float = 30.0) -> int | None:
    """SIGTERM the process group, then SIGKILL if it does not exit in time; returns the exit code."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        except ProcessLookupError:
            pass
    return process.returncode


def gunicorn_command(wsgi_app: str, port: int, *extra: str) -> list[str]:
    """The same gunicorn command the images run, bound to 127.0.0.1:``port``."""
    return [
        str(VENV_BIN / "gunicorn"),
        "-c",
        "python:apis.core.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
        *extra,
        wsgi_app,
    ]


@contextmanager
def run_api(route: ServiceRoute, *, workdir: Path, env: dict[str, str]) -> Iterator[RunningServer]:
    """The API of ``route`` under the images' gunicorn command, on a free port, once healthy."""
    port = free_port()
    command = gunicorn_command(route.wsgi_app, port)
    with run_server(command, port=port, health_path=route.health_path, workdir=workdir, env=env) as server:
        yield server
