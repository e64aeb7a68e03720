"""Build the three production images and run them together as ECS runs them: the container smoke.

``make images-smoke`` and ``tests/delivery/test_container_smoke.py`` (marker ``container``) drive it:

1. :func:`delivery.base_image.ensure_base_image` provides the Python base image (a cached stand-in
   where none can be pulled);
2. :func:`export_test_models` builds tiny random models on the host and exports them with
   ``python -m apis.export`` (the images' ``export`` stage needs PyTorch's index and the model hub);
3. :func:`build_images` builds every image from its real Dockerfile, the ``export`` stage replaced by
   that folder, and reports build time and size against ``docs/containers.md``;
4. :func:`running` starts them together with the environment, user, read-only root and writable
   mounts of the synthesized task definitions, each in its own network namespace (as ECS's bridge
   mode), publishes each route's port on a free loopback port and always removes them again.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from delivery.base_image import arg_default
from delivery.engine import ContainerEngine
from delivery.images import IMAGES, ImageSpec
from delivery.routes import SERVICES, ServiceRoute
from delivery.task_definitions import ContainerRun, localize

ROOT = Path(__file__).resolve().parent.parent
API_DOCKERFILE = ROOT / "docker" / "api.Dockerfile"
SIZES_DOC = ROOT / "docs" / "containers.md"
# podman on kernels whose cgroups crun cannot drive (this project's CI machines) needs runc and
# explicit ulimits; docker needs neither.
PODMAN_OPTIONS = ("--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096")
SIZE_GROWTH_LIMIT = 0.15
LOCAL_TAG = "smoke"
HOST = "127.0.0.1"
SIZE_ROW = re.compile(r"^\|\s*(?P<service>[a-z]+)\s*\|\s*(?P<mb>[\d.]+) MB\s*\|", re.M)


@dataclass(frozen=True)
class BuiltImage:
    """One image the smoke built: its reference, how long the build took and how big it is."""

    spec: ImageSpec
    reference: str
    seconds: float
    size_bytes: int

    @property
    def size_mb(self) -> float:
        return self.size_bytes / 1e6


def for_this_machine(engine: ContainerEngine) -> ContainerEngine:
    """The engine with the build options this kind of machine needs (podman: runc, ulimits)."""
    return replace(engine, build_options=PODMAN_OPTIONS) if engine.name == "podman" else engine


def run_options(engine: ContainerEngine) -> list[str]:
    """What every ``run`` needs on this kind of machine."""
    return list(PODMAN_OPTIONS) if engine.name == "podman" else []


def _engine(engine: ContainerEngine, *args: str, check: bool = True, timeout: float = 120) -> str:
    result = subprocess.run(
        [engine.executable, *args], capture_output=True, text=True, check=False, timeout=timeout
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"`{engine.name} {' '.join(args[:3])} ...` failed: {result.stderr or result.stdout}"
        )
    return result.stdout


# --- models ---------------------------------------------------------------------------------------


def export_test_models(folder: Path, photos: Path) -> Path:
    """Tiny random models, exported into ``folder/opt/models/onnx`` as the images expect; returns folder.

    Runs in a child process (torch, ultralytics and transformers stay out of the caller). The
    weights are named as the API Dockerfile's ``DETECTION_WEIGHTS`` and ``DEPTH_MODEL`` defaults,
    which the manifests must match when the services start.
    """
    subprocess.run(
        [sys.executable, "-m", "delivery.image_smoke", "models", str(folder), str(photos)], check=True
    )
    return folder


def _build_and_export(folder: Path, photos: Path) -> None:
    import os

    os.environ.update({"YOLO_OFFLINE": "1", "YOLO_AUTOINSTALL": "false", "HF_HUB_OFFLINE": "1"})
    os.environ.setdefault("YOLO_CONFIG_DIR", str(folder / "ultralytics"))
    from PIL import Image

    from apis.depth.demo import build_random_depth_anything
    from apis.detection.demo import build_random_yolo
    from apis.export.__main__ import main as export

    weights = folder / "weights" / Path(arg_default(API_DOCKERFILE, "DETECTION_WEIGHTS")).name
    depth = folder / "hf" / Path(arg_default(API_DOCKERFILE, "DEPTH_MODEL")).name
    weights.parent.mkdir(parents=True, exist_ok=True)
    build_random_yolo(weights, [Image.open(photos / name) for name in ("bus.jpg", "zidane.jpg")])
    build_random_depth_anything(depth, tiny=True)
    os.environ.update({"DETECTION_WEIGHTS": str(weights), "DEPTH_MODEL": str(depth)})
    export(["--out", str(folder / "opt" / "models" / "onnx")])


# --- images ---------------------------------------------------------------------------------------


def recorded_sizes(doc: Path = SIZES_DOC) -> dict[str, float]:
    """The image sizes (MB) recorded in the table of ``docs/containers.md``, by service."""
    return {m["service"]: float(m["mb"]) for m in SIZE_ROW.finditer(doc.read_text())} if doc.exists() else {}


def size_report(built: Sequence[BuiltImage], recorded: Mapping[str, float]) -> tuple[list[str], list[str]]:
    """One line per image (build time, size, recorded size), and the images grown by more than 15 %."""
    lines, grown = [], []
    for image in built:
        before = recorded.get(image.spec.service)
        change = (
            f"{(image.size_mb / before - 1) * 100:+.0f} % vs {before:.0f} MB recorded"
            if before
            else "none recorded"
        )
        lines.append(f"{image.spec.service:<9} {image.seconds:6.0f} s  {image.size_mb:7.0f} MB  ({change})")
        if before and image.size_mb > before * (1 + SIZE_GROWTH_LIMIT):
            grown.append(
                f"{image.spec.service} image grew {image.size_mb / before - 1:.0%} to {image.size_mb:.0f} MB "
                f"(recorded {before:.0f} MB in docs/containers.md; limit +{SIZE_GROWTH_LIMIT:.0%})"
            )
    return lines, grown


def build_images(
    engine: ContainerEngine, export_dir: Path, specs: Sequence[ImageSpec] = IMAGES
) -> list[BuiltImage]:
    """Build each image from its real Dockerfile (stage ``export`` replaced by ``export_dir``)."""
    built = []
    for spec in specs:
        reference = f"localhost/objdepth-{spec.service}:{LOCAL_TAG}"
        started = time.monotonic()
        engine.build(
            ROOT / spec.dockerfile,
            [reference],
            context=ROOT,
            build_args=spec.build_args,
            build_contexts={"export": export_dir}
            if " AS export" in (ROOT / spec.dockerfile).read_text()
            else None,
        )
        seconds = time.monotonic() - started
        size = int(_engine(engine, "image", "inspect", "--format", "{{.Size}}", reference).strip())
        built.append(BuiltImage(spec, reference, seconds, size))
    return built


# --- containers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunningStack:
    """The started containers (by service) and where each route answers on the host."""

    engine: ContainerEngine
    containers: Mapping[str, str]
    urls: Mapping[str, str]

    def url(self, route: ServiceRoute, path: str = "") -> str:
        """``http://127.0.0.1:<published port><path>`` for ``route``."""
        return self.urls[route.name] + path


def _published(engine: ContainerEngine, container: str, port: int) -> int:
    mappings = _engine(engine, "port", container, f"{port}/tcp").strip().splitlines()
    if not mappings:  # a container that stopped at once publishes nothing
        state = _engine(engine, "inspect", "--format", "{{.State.Status}}", container).strip()
        raise RuntimeError(f"{container} publishes no port {port}; it is {state}:\n{logs(engine, container)}")
    return int(mappings[0].rsplit(":", 1)[1])


@contextmanager
def running(
    engine: ContainerEngine,
    images: Mapping[str, str],
    runs: Mapping[str, ContainerRun],
    routes: Sequence[ServiceRoute] = SERVICES,
) -> Iterator[RunningStack]:
    """Start one container per route, as its task definition says; remove them all afterwards.

    Each container has its own network namespace (its health check reaches only its own server) and
    publishes its route's port on a free loopback port. Settings that name the load balancer point at
    the APIs' container addresses instead, so the APIs are started first.
    """
    run_id = uuid.uuid4().hex[:8]
    names = {route.name: f"objdepth-smoke-{run_id}-{route.name}" for route in routes}
    inside: dict[str, str] = {}  # service -> http://<container address>:<port>, for the page
    try:
        for route in sorted(routes, key=lambda r: r.is_default_route):
            run, name = runs[route.name], names[route.name]
            args = [
                "run",
                "--detach",
                "--name",
                name,
                *run_options(engine),
                "--publish",
                f"{HOST}::{route.port}",
            ]
            if run.read_only:
                args.append("--read-only")
            args += [arg for path in run.writable_paths for arg in ("--tmpfs", path)]
            if run.user:
                args += ["--user", run.user]
            environment = {
                **localize(run.environment, routes, inside),
                **{secret: secrets.token_hex(16) for secret in run.secret_names},
            }
            args += [arg for key, value in sorted(environment.items()) for arg in ("--env", f"{key}={value}")]
            _engine(engine, *args, images[route.name])
            address = _engine(engine, "inspect", "--format", "{{.NetworkSettings.IPAddress}}", name).strip()
            inside[route.name] = f"http://{address}:{route.port}"
        urls = {r.name: f"http://{HOST}:{_published(engine, names[r.name], r.port)}" for r in routes}
        yield RunningStack(engine, names, urls)
    finally:
        for name in reversed(list(names.values())):
            _engine(engine, "rm", "--force", "--time", "0", name, check=False)


def logs(engine: ContainerEngine, container: str, lines: int = 40) -> str:
    """The last ``lines`` of a container's output."""
    result = subprocess.run(
        [engine.executable, "logs", "--tail", str(lines), container],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout + result.stderr


def wait_healthy(
    engine: ContainerEngine, container: str, *, timeout_s: float = 180, poll_s: float = 3
) -> float:
    """Run the image's own HEALTHCHECK command until it passes; return the seconds it took.

    Raises RuntimeError with the check's output and the container's log when the container stops or
    the check has not passed within ``timeout_s``.
    """
    started = time.monotonic()
    while True:
        state = _engine(engine, "inspect", "--format", "{{.State.Status}}", container).strip()
        if state != "running":
            raise RuntimeError(f"{container} is {state}:\n{logs(engine, container)}")
        check = subprocess.run(
            [engine.executable, "healthcheck", "run", container], capture_output=True, text=True, check=False
        )
        if check.returncode == 0:
            return time.monotonic() - started
        if time.monotonic() - started > timeout_s:
            raise RuntimeError(
                f"{container}: its HEALTHCHECK did not pass in {timeout_s:.0f} s; last check: "
                f"{last_health_output(engine, container)}\n{logs(engine, container)}"
            )
        time.sleep(poll_s)


def last_health_output(engine: ContainerEngine, container: str) -> str:
    """What the container's latest HEALTHCHECK run printed (its reason for failing)."""
    health = json.loads(_engine(engine, "inspect", "--format", "{{json .State.Health}}", container) or "null")
    entries = (health or {}).get("Log") or [{}]
    return str(entries[-1].get("Output", "")).strip() or "(no output)"


def exec_in(engine: ContainerEngine, container: str, *argv: str) -> subprocess.CompletedProcess:
    """Run ``argv`` in the container as its own user."""
    return subprocess.run(
        [engine.executable, "exec", container, *argv], capture_output=True, text=True, check=False, timeout=60
    )


# Lists each process's real and effective uid, and tries to create a file in each directory given.
_PROBE = """
import json, os, sys
procs = {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        status = open(f"/proc/{pid}/status").read()
        cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode().strip()
    except OSError:
        continue
    uids = next(line.split()[1:3] for line in status.splitlines() if line.startswith("Uid:"))
    procs[pid] = {"uids": [int(u) for u in uids], "cmd": cmd}
writes = {}
for folder in sys.argv[1:]:
    try:
        with open(os.path.join(folder, ".objdepth-write-probe"), "w") as f:
            f.write("x")
        os.remove(os.path.join(folder, ".objdepth-write-probe"))
        writes[folder] = "written"
    except OSError as exc:
        writes[folder] = exc.strerror
print(json.dumps({"processes": procs, "writes": writes}))
"""


def probe(engine: ContainerEngine, container: str, folders: Sequence[str]) -> dict:
    """Every process's uids and command, and whether each of ``folders`` can be written, in the container."""
    result = exec_in(engine, container, "python", "-c", _PROBE, *folders)
    if result.returncode != 0:
        raise RuntimeError(f"probe failed in {container}: {result.stderr}")
    return json.loads(result.stdout)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m delivery.image_smoke models DIR PHOTOS``: :func:`export_test_models`'s child."""
    parser = argparse.ArgumentParser(prog="python -m delivery.image_smoke")
    parser.add_argument("command", choices=["models"])
    parser.add_argument("folder", type=Path)
    parser.add_argument("photos", type=Path)
    args = parser.parse_args(argv)
    _build_and_export(args.folder, args.photos)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
