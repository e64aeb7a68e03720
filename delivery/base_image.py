"""A local stand-in for the images' Python base image, for machines that cannot pull one.

The Dockerfiles start ``FROM python:3.11.x-slim-bookworm``. Where no registry is reachable (CI here),
:func:`ensure_base_image` builds a Debian bookworm root filesystem with ``debootstrap`` (Debian's
``python3`` is 3.11, as in the real base), links ``/usr/local/bin/python`` to it and imports it into
podman under the real base image's name. The root filesystem is kept as a tarball under
``~/.cache/objdepth/base`` (``OBJDEPTH_CACHE`` moves it), so it is built once per machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from delivery.engine import ContainerEngine

ROOT = Path(__file__).resolve().parent.parent
DEBIAN_MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("python3", "python3-venv", "python3-pip", "ca-certificates", "passwd")
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
IMPORT_CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt",
)


def cache_dir() -> Path:
    """``$OBJDEPTH_CACHE`` or ``~/.cache/objdepth``: machine-wide, outside every checkout."""
    return Path(os.environ.get("OBJDEPTH_CACHE", Path.home() / ".cache" / "objdepth"))


def arg_default(dockerfile: Path, name: str) -> str:
    """The default of ``ARG name=...`` in a Dockerfile (``PYTHON_IMAGE`` gives the base image)."""
    found = re.search(rf"^ARG {name}=(\S+)$", dockerfile.read_text(), re.M)
    if not found:
        raise ValueError(f"{dockerfile} declares no ARG {name} with a default")
    return found[1]


def local_name(image: str) -> str:
    """podman's name for an imported image (``localhost/python:3.11.13-slim-bookworm``)."""
    return image if "/" in image else f"localhost/{image}"


def image_exists(engine: ContainerEngine, image: str) -> bool:
    """Whether ``image`` is present in the engine's local storage."""
    result = subprocess.run([engine.executable, "image", "inspect", image], capture_output=True, check=False)
    return result.returncode == 0


def build_rootfs_tarball(tarball: Path, *, mirror: str = DEBIAN_MIRROR) -> None:
    """debootstrap a minimal bookworm with Python into ``tarball`` (about a minute)."""
    if shutil.which("debootstrap") is None:
        raise RuntimeError("debootstrap is not installed (apt-get install debootstrap)")
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tarball.parent, prefix="rootfs-") as work:
        rootfs = Path(work) / "rootfs"
        subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", "bookworm",
             str(rootfs), mirror],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        for name in ("python", "python3"):
            (rootfs / "usr/local/bin" / name).symlink_to("/usr/bin/python3")
        # pip inside builds verifies TLS with this bundle (the host's, which may add a proxy's CA).
        shutil.copyfile(HOST_CA_BUNDLE, rootfs / "etc/ssl/certs/ca-certificates.crt")
        partial = tarball.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(partial), "."], check=True)
        partial.replace(tarball)


def ensure_base_image(engine: ContainerEngine, image: str) -> str:
    """Make ``image`` available locally; return how (``present``, ``imported``, ``built``)."""
    if image_exists(engine, image) or image_exists(engine, local_name(image)):
        return "present"
    tarball = cache_dir() / "base" / f"{image.replace('/', '_').replace(':', '_')}.tar"
    how = "imported"
    if not tarball.is_file():
        started = time.monotonic()
        print(f"building the base stand-in {image} with debootstrap into {tarball} ...", flush=True)
        build_rootfs_tarball(tarball)
        print(f"  done in {time.monotonic() - started:.0f} s", flush=True)
        how = "built"
    changes = [arg for change in IMPORT_CHANGES for arg in ("--change", change)]
    subprocess.run(
        [engine.executable, "import", *changes, str(tarball), local_name(image)],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return how
