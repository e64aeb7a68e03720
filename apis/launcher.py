"""``make run``: the detection API, the depth API and the web UI on this machine, as three processes.

    python -m apis.launcher --models real   # yolo11n + Depth-Anything-V2-Small, downloaded once, cached
    python -m apis.launcher --models demo   # random-weight models built offline once, cached

Ports and health paths come from :mod:`apis.routes` (the UI gets a free local port instead of 80).
Each service runs in its own process group with its output in a log file; the launcher waits until
all three are healthy, prints the URL, and stops all three on Ctrl-C or SIGTERM. If one dies, or a
model cannot be loaded, the others are stopped and the reason is shown.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import requests

from apis.routes import DEPTH, DETECTION, UI, ServiceRoute

REPO_ROOT = Path(__file__).resolve().parents[1]
UI_SCRIPT = REPO_ROOT / "ui" / "app.py"
SAMPLES_DIR = REPO_ROOT / "ui" / "samples"
DEFAULT_UI_PORT = 8501  # UI.port (80) needs root; the container uses it, a laptop does not
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "objdepth"
# Bump when the demo builders change, so old random models are not reused.
DEMO_VERSION = "v1"
STOP_TIMEOUT_S = 30.0
POLL_S = 0.5
SETTLE_S = 5.0
PR_SET_PDEATHSIG = 1  # linux/prctl.h
# Ctrl-C, kill, and a closed terminal all stop the three services.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
LOG_TAIL_LINES = 25


class LaunchError(RuntimeError):
    """The platform cannot start; the message says what happened and what to do."""


class Shutdown(Exception):
    """SIGINT or SIGTERM arrived."""


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


# --- demo models -----------------------------------------------------------------------------------


def demo_model_paths(cache_dir: Path) -> tuple[Path, Path]:
    """Where demo mode keeps its random YOLO (.pt) and Depth Anything (folder)."""
    root = cache_dir / "demo" / DEMO_VERSION
    return root / "yolo11n-random.pt", root / "depth-anything-v2-small-random"


def _demo_models_ready(cache_dir: Path) -> bool:
    yolo, depth = demo_model_paths(cache_dir)
    return yolo.is_file() and (depth / "config.json").is_file()


def build_demo_models(cache_dir: Path) -> None:
    """Build both random-weight models into ``cache_dir`` (each moved into place when complete)."""
    from PIL import Image

    from apis.depth.demo import build_random_depth_anything
    from apis.detection.demo import build_random_yolo

    yolo, depth = demo_model_paths(cache_dir)
    suffix = f".tmp-{os.getpid()}"
    if not yolo.is_file():
        calibration = [Image.open(path) for path in sorted(SAMPLES_DIR.glob("*.jpg"))]
        partial = build_random_yolo(yolo.with_name(yolo.name + suffix), calibration)
        os.replace(partial, yolo)
    if not (depth / "config.json").is_file():
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        partial = build_random_depth_anything(depth.with_name(depth.name + suffix))
        os.replace(partial, depth)


def prepare_demo(cache_dir: Path) -> dict[str, str]:
    """The environment of demo mode, building the models first if they are not cached yet."""
    yolo, depth = demo_model_paths(cache_dir)
    if not _demo_models_ready(cache_dir):
        say(f"building the demo models once into {yolo.parent} (about a minute) ...")
        started = time.monotonic()
        # In a child process, so the launcher does not keep torch in memory while it supervises.
        try:
            with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
                pool.submit(build_demo_models, cache_dir).result()
        except Exception as exc:
            raise LaunchError(f"could not build the demo models ({type(exc).__name__}: {exc})") from exc
        say(f"demo models ready in {time.monotonic() - started:.0f} s")
    return {
        "DETECTION_WEIGHTS": str(yolo),
        "DETECTION_ALLOW_DOWNLOAD": "false",
        "DEPTH_MODEL": str(depth),
        "DEPTH_ALLOW_DOWNLOAD": "false",
        "HF_HUB_OFFLINE": "1",
        "YOLO_OFFLINE": "1",
        "OBJDEPTH_DEMO": "1",
    }


# --- the three processes ---------------------------------------------------------------------------


def plan(
    *,
    host: str,
    ports: dict[str, int],
    log_dir: Path,
    extra_env: dict[str, str],
    python: str = sys.executable,
) -> list[Child]:
    """The three services, APIs first: commands, environments and log files."""
    base_env = {**os.environ, **extra_env, "PYTHONUNBUFFERED": "1"}
    base_env.pop("PATH_PREFIX", None)  # each API takes its own prefix from apis/routes.py
    children = [
        Child(
            route,
            ports[route.name],
            [
                python,
                "-m",
                "gunicorn",
                "-c",
                "python:apis.core.gunicorn_conf",
                "--bind",
                f"{host}:{ports[route.name]}",
                wsgi,
            ],
            base_env,
            log_dir / f"{route.name}.log",
            host,
        )
        for route, wsgi in ((DETECTION, "apis.detection.wsgi:app"), (DEPTH, "apis.depth.wsgi:app"))
    ]
    detection, depth = children
    ui_env = {**base_env, "DETECTION_API_URL": detection.base_url, "DEPTH_API_URL": depth.base_url}
    ui_command = [
        python,
        "-m",
        "streamlit",
        "run",
        str(UI_SCRIPT),
        "--server.address",
        host,
        "--server.port",
        str(ports[UI.name]),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    children.append(Child(UI, ports[UI.name], ui_command, ui_env, log_dir / "ui.log", host))
    return children


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
    if child.route is UI:
        # Streamlit answers 200 with its page on unknown paths: only the body "ok" counts.
        ready = response.status_code == 200 and response.text.strip() == "ok"
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


def wait_until_healthy(children: Sequence[Child], timeout_s: float, *, demo: bool) -> None:
    """Return when every child is healthy; raise :class:`LaunchError` with the reason otherwise."""
    deadline = time.monotonic() + timeout_s
    next_report = time.monotonic() + 10
    while True:
        states = {}
        for child in children:
            code = child.exit_code()
            if code is not None:
                raise LaunchError(
                    f"the {child.label} exited with code {code} while starting:\n{child.log_tail()}"
                )
            states[child] = probe(child)
        failed = [(child, detail) for child, (state, detail) in states.items() if state == "failed"]
        if failed:
            raise LaunchError(_model_failure(_settle(children, failed), demo=demo))
        if all(state == "ready" for state, _ in states.values()):
            return
        now = time.monotonic()
        if now >= deadline:
            waiting = ", ".join(f"{c.label} ({d})" for c, (s, d) in states.items() if s != "ready")
            raise LaunchError(
                f"not healthy within {timeout_s:.0f} s: {waiting}. A first download of the models can "
                "take longer: retry with --timeout, or look at the logs:\n"
                + "\n".join(f"  {c.label}: {c.log_path}" for c in children)
            )
        if now >= next_report:
            say("waiting: " + ", ".join(f"{c.label} {d}" for c, (s, d) in states.items()))
            next_report = now + 10
        time.sleep(POLL_S)


def _settle(children: Sequence[Child], failed: list[tuple[Child, str]]) -> list[tuple[Child, str]]:
    """Give the other APIs a few seconds to finish loading, so one message names every failure."""
    deadline = time.monotonic() + SETTLE_S
    others = [c for c in children if c.route is not UI and c not in {f[0] for f in failed}]
    while others and time.monotonic() < deadline:
        for child in list(others):
            state, detail = probe(child)
            if state != "waiting" or child.exit_code() is not None:
                others.remove(child)
                if state == "failed":
                    failed.append((child, detail))
        time.sleep(POLL_S)
    return sorted(failed, key=lambda item: list(children).index(item[0]))


def _model_failure(failed: list[tuple[Child, str]], *, demo: bool) -> str:
    lines = [f"the {child.label} could not load its model: {detail}" for child, detail in failed]
    if demo:
        lines.append(f"The demo models may be damaged: delete {DEFAULT_CACHE / 'demo'} and run again.")
    else:
        lines += [
            "",
            "The real models are downloaded on the first run (yolo11n.pt from GitHub, "
            "Depth-Anything-V2-Small from the Hugging Face hub) and cached; this machine could not get them.",
            "Without a model hub, start the platform with offline random-weight models instead:",
            "",
            "    make run MODELS=demo",
            "",
            "or point DETECTION_WEIGHTS at a local .pt file and DEPTH_MODEL at a local model folder.",
        ]
    return "\n".join(lines)


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


def supervise(children: Sequence[Child]) -> int:
    """Block until a child exits (returns 1 after explaining) or a signal asks to stop (raises)."""
    while True:
        for child in children:
            code = child.exit_code()
            if code is not None:
                say(
                    f"the {child.label} exited with code {code}; stopping the others. Last lines of "
                    f"{child.log_path}:\n{child.log_tail()}"
                )
                return 1
        time.sleep(POLL_S)


def say(message: str) -> None:
    print(f"[objdepth] {message}", flush=True)


def _raise_shutdown(signum: int, _frame) -> None:
    raise Shutdown(signal.Signals(signum).name)


# --- command line ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m apis.launcher", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--models",
        choices=("real", "demo"),
        default="real",
        help="real: yolo11n + Depth-Anything-V2-Small (downloaded once); "
        "demo: random-weight models built offline (results are meaningless)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 for the network)")
    parser.add_argument(
        "--ui-port",
        type=int,
        default=int(os.environ.get("UI_PORT", DEFAULT_UI_PORT)),
        help=f"web UI port (default {DEFAULT_UI_PORT}, or $UI_PORT)",
    )
    parser.add_argument("--detection-port", type=int, default=DETECTION.port)
    parser.add_argument("--depth-port", type=int, default=DEPTH.port)
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="seconds to wait for all three to be healthy (first downloads included)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=DEFAULT_CACHE,
        help="where demo models and logs are kept (default ~/.cache/objdepth)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    cache_dir = args.cache_dir.expanduser()
    demo = args.models == "demo"
    children: list[Child] = []
    previous = {sig: signal.signal(sig, _raise_shutdown) for sig in STOP_SIGNALS}
    try:
        ports = {DETECTION.name: args.detection_port, DEPTH.name: args.depth_port, UI.name: args.ui_port}
        check_ports_free(args.host, ports)
        extra_env = prepare_demo(cache_dir) if demo else {}
        children = plan(host=args.host, ports=ports, log_dir=cache_dir / "logs", extra_env=extra_env)
        say(
            f"starting {', '.join(f'{c.label} (:{c.port})' for c in children)} with {args.models} models; "
            f"logs in {cache_dir / 'logs'}"
        )
        started = time.monotonic()
        for child in children:
            child.start()
        wait_until_healthy(children, args.timeout, demo=demo)
        detection, depth, ui = children
        say(
            f"ready in {time.monotonic() - started:.0f} s"
            + (" (DEMO models: random weights, meaningless results)" if demo else "")
        )
        print(
            f"\n    Open {ui.base_url}\n"
            f"    Detection API: {detection.base_url}/detect\n"
            f"    Depth API:     {depth.base_url}/predict_depth\n\n"
            "    Press Ctrl-C to stop.\n",
            flush=True,
        )
        return supervise(children)
    except Shutdown as signal_name:
        say(f"{signal_name}: stopping")
        return 0
    except LaunchError as exc:
        say(f"cannot start: {exc}")
        return 1
    finally:
        for sig in previous:  # a second Ctrl-C must not abandon the children
            signal.signal(sig, signal.SIG_IGN)
        if children:
            stop_all(children)
            say("stopped")
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
