"""The container engine: docker or podman, whichever is installed and actually works."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from delivery.steps import DeliveryError

CANDIDATES = ("docker", "podman")
PROBE_TIMEOUT_S = 15


@dataclass(frozen=True)
class ContainerEngine:
    """A working ``docker`` or ``podman`` command line."""

    name: str
    executable: str
    #: Added to every ``build`` (podman on this project's CI machines needs ``--runtime runc`` ...).
    build_options: tuple[str, ...] = ()

    def _run(self, args: Sequence[str], *, input_text: str | None = None) -> None:
        command = [self.executable, *args]
        try:
            subprocess.run(command, check=True, input=input_text, text=True)
        except subprocess.CalledProcessError as exc:
            shown = " ".join(command[:4]) + (" ..." if len(command) > 4 else "")
            raise DeliveryError(
                f"`{shown}` exited with status {exc.returncode} (see its output above)"
            ) from exc

    def build(
        self,
        dockerfile: Path,
        tags: Sequence[str],
        *,
        context: Path,
        build_args: dict[str, str] | None = None,
        build_contexts: dict[str, Path] | None = None,
    ) -> None:
        """Build ``dockerfile`` with ``context`` and give the image every name in ``tags``.

        ``build_contexts`` replaces stages by folders (``{"export": Path}`` stands in for the stage
        ``export``; ``--build-context``, podman >= 4.3 or docker buildx).
        """
        args = ["build", "--file", str(dockerfile), *self.build_options]
        if self.name == "podman":
            args += ["--format", "docker"]  # OCI images drop HEALTHCHECK
        for tag in tags:
            args += ["--tag", tag]
        for key, value in (build_args or {}).items():
            args += ["--build-arg", f"{key}={value}"]
        for name, folder in (build_contexts or {}).items():
            args += ["--build-context", f"{name}={folder}"]
        self._run([*args, str(context)])

    def push(self, reference: str) -> None:
        """Push one image reference (``registry/repository:tag``)."""
        self._run(["push", reference])

    def login(self, registry: str, username: str, password: str) -> None:
        """Log in to ``registry``; the password travels on stdin, never on the command line."""
        self._run(["login", "--username", username, "--password-stdin", registry], input_text=password)


def _engine_works(executable: str) -> bool:
    try:
        result = subprocess.run(
            [executable, "info"], capture_output=True, timeout=PROBE_TIMEOUT_S, check=False, text=True
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def detect_engine(
    candidates: Sequence[str] = CANDIDATES,
    *,
    which: Callable[[str], str | None] = shutil.which,
    works: Callable[[str], bool] = _engine_works,
) -> ContainerEngine | None:
    """Return the first engine whose ``info`` succeeds (a docker CLI without a daemon does not count).

    ``CONTAINER_ENGINE=docker|podman`` in the environment restricts the choice to that one.
    """
    preferred = os.environ.get("CONTAINER_ENGINE", "").strip()
    for name in [preferred] if preferred else candidates:
        executable = which(name)
        if executable and works(executable):
            return ContainerEngine(name=name, executable=executable)
    return None


def describe_missing_engine(
    candidates: Sequence[str] = CANDIDATES, *, which: Callable[[str], str | None] = shutil.which
) -> str:
    """Say why no engine works: none installed, or installed but not running."""
    installed = [name for name in candidates if which(name)]
    if not installed:
        return "no container engine found: install Docker (https://docs.docker.com/get-docker/) or podman"
    return (
        f"{' and '.join(installed)} installed but `info` fails: start the Docker daemon "
        "(or Docker Desktop), or check `podman info`"
    )
