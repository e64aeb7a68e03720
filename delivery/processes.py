"""The processes of ``make run``: start each in its own process group, probe its health, stop them all."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import requests

from delivery.routes import UI, ServiceRoute

REPO_ROOT = Path(__file__).resolve().parents[1]
STOP_TIMEOUT_S = 30.0
PR_SET_PDEATHSIG = 1  # linux/prctl.h
LOG_TAIL_LINES = 25


class LaunchError(RuntimeError):
    """The platform cannot start; the message says what happened and what to do."""


@dataclass(eq=False)
class Child:
    """One service process: how to start it, where it logs, how to tell it is healthy."""

    route: ServiceRoute
    port: int
    command: list[str]
    env: dict[str, str]
    log_path: Path
    host: str = "127.0.0.1"
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return "web UI" if self.route is UI else f"{self.route.name} API"

    @property
    def base_url(self) -> str:
        return f"http://{_client_host(self.host)}:{self.port}{self.route.path_prefix}"

    @property
    def health_url(self) -> str:
        return f"http://{_client_host(self.host)}:{self.port}{self.route.health_path}"

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=REPO_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: Ctrl-C reaches only the launcher
                preexec_fn=_die_with_parent,
            )

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(f"    {line}" for line in text.splitlines()[-lines:]) or "    (empty log)"


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM it if the launcher dies without cleaning up (kill -9)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _client_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else host


def check_ports_free(host: str, ports: dict[str, int]) -> None:
    """Fail before starting anything when a port is taken (often: the platform is already running).

    The probe binds the way gunicorn and Streamlit do, with ``SO_REUSEADDR``: connections of a
    stopped run left in TIME_WAIT do not block a restart, a listening process does.
    """
    for name, port in ports.items():
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError:
                raise LaunchError(
                    f"port {port} ({name}) is already in use{_listener_of(port)}: is the platform already "
                    f"running? Stop what listens there or choose another port with --{name}-port."
                ) from None


def _listener_of(port: int) -> str:
    """`` by PID 123 (gunicorn ...)`` for the process listening on ``port``, where it can be known."""
    try:
        import psutil

        for connection in psutil.net_connections(kind="tcp"):
            if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port and connection.pid:
                command = " ".join(psutil.Process(connection.pid).cmdline()[:3])
                return f" by PID {connection.pid} ({command})"
    except Exception:  # psutil missing, or no right to see the other process: say less
        return ""
    return ""


def probe(child: Child) -> tuple[str, str]:
    """``("ready"|"waiting"|"failed", detail)`` from one health check."""
    try:
        response = requests.get(child.health_url, timeout=2)
    except requests.RequestException:
        return "waiting", "not listening yet"
    expected = child.route.health_body
    if expected is not None:
        # Streamlit answers 200 with its page on unknown paths: only the expected body counts.
        ready = response.status_code == 200 and response.text.strip() == expected
        return ("ready", "ok") if ready else ("waiting", f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code == 200:
        return "ready", "ok"
    if isinstance(body, dict) and body.get("error"):
        return "failed", str(body["error"])
    return "waiting", str(body.get("status", f"HTTP {response.status_code}")) if isinstance(
        body, dict
    ) else "?"


def stop_all(children: Sequence[Child], timeout_s: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM every process group (UI first), wait, then SIGKILL whatever is left."""
    running = [c for c in reversed(children) if c.process is not None and c.process.poll() is None]
    for child in running:
        _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for child in running:
        assert child.process is not None
        try:
            child.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"the {child.label} did not stop within {timeout_s:.0f} s; killing it")
            _signal_group(child, signal.SIGKILL)
            child.process.wait(10)
    for child in children:  # stragglers of groups whose leader has exited (a worker that lost its arbiter)
        if child.process is not None:
            _signal_group(child, signal.SIGKILL)


def _signal_group(child: Child, sig: int) -> None:
    assert child.process is not None
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.process.pid, sig)


def say(message: str) -> None:
    print(f"[objdepth] {message}", flush=True)
