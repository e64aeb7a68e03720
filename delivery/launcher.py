"""``make run``: the detection API, the depth API and the web UI on this machine, as three processes.

    python -m delivery.launcher --models real   # yolo11n + Depth-Anything-V2-Small, downloaded once, cached
    python -m delivery.launcher --models demo   # random-weight models built offline once, cached

Ports, health paths and wsgi modules come from :mod:`delivery.routes` (the UI gets a free local port,
not 80).
Each service runs in its own process group with its output in a log file; the launcher waits until
all three are healthy, prints the URL, and stops all three on Ctrl-C or SIGTERM. If one dies, or a
model cannot be loaded, the others are stopped and the reason is shown.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from delivery.demo_models import prepare_demo
from delivery.processes import (
    REPO_ROOT,
    Child,
    LaunchError,
    check_ports_free,
    probe,
    say,
    stop_all,
)
from delivery.routes import DEPTH, DETECTION, UI

__all__ = ["Child", "LaunchError", "check_ports_free", "main", "plan", "stop_all", "supervise"]

UI_SCRIPT = REPO_ROOT / "ui" / "app.py"
DEFAULT_UI_PORT = 8501  # UI.port (80) needs root; the container uses it, a laptop does not
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "objdepth"
POLL_S = 0.5
SETTLE_S = 5.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Shutdown(Exception):
    """SIGINT or SIGTERM arrived."""


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
    base_env.pop("PATH_PREFIX", None)  # each API takes its own prefix from delivery/routes.py
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
                route.wsgi_app,
            ],
            base_env,
            log_dir / f"{route.name}.log",
            host,
        )
        for route in (DETECTION, DEPTH)
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


def _raise_shutdown(signum: int, _frame) -> None:
    raise Shutdown(signal.Signals(signum).name)


# --- command line ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m delivery.launcher", description=__doc__.split("\n\n")[0])
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
