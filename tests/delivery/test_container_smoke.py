"""Build the UI image and run it: its health check answers on port 80 as a non-root user.

Needs a working docker or podman and the base image already present locally (nothing is pulled);
skipped otherwise, which is the normal case on machines without a container engine.
"""

import re
import subprocess
import time
import uuid

import pytest

from delivery.engine import detect_engine
from delivery.images import ROOT

pytestmark = pytest.mark.slow
BASE = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", (ROOT / "docker/ui.Dockerfile").read_text(), re.M)[1]
# podman on kernels whose cgroups crun cannot drive needs runc and explicit ulimits.
PODMAN_RUN = ["--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"]


@pytest.fixture(scope="module")
def engine():
    found = detect_engine()
    if found is None:
        pytest.skip("no working docker or podman")
    present = subprocess.run([found.executable, "image", "inspect", BASE], capture_output=True, check=False)
    if present.returncode != 0:
        pytest.skip(f"base image {BASE} is not present locally (this test pulls nothing)")
    return found


def test_ui_image_serves_its_health_route_as_non_root(engine):
    tag = f"objdepth-ui-smoke:{uuid.uuid4().hex[:8]}"
    extra = PODMAN_RUN if engine.name == "podman" else []
    build = [engine.executable, "build", "--pull=false", "-f", "docker/ui.Dockerfile", "-t", tag, "."]
    if engine.name == "podman":
        build[2:2] = ["--format", "docker"]
    subprocess.run(build, cwd=ROOT, check=True, timeout=900)
    name = f"objdepth-ui-smoke-{uuid.uuid4().hex[:8]}"
    try:
        subprocess.run(
            [engine.executable, "run", "-d", "--name", name, "--read-only", "--tmpfs", "/tmp", *extra, tag],
            check=True,
            timeout=60,
        )
        deadline = time.monotonic() + 90
        while True:
            probe = subprocess.run(
                [engine.executable, "exec", name, "python", "/usr/local/bin/healthcheck",
                 "http://127.0.0.1:80/_stcore/health", "ok"],
                capture_output=True, text=True, check=False, timeout=30,
            )  # fmt: skip
            if probe.returncode == 0:
                break
            assert time.monotonic() < deadline, probe.stdout + probe.stderr
            time.sleep(2)
        user = subprocess.run([engine.executable, "exec", name, "id", "-u"], capture_output=True, text=True)
        assert user.stdout.strip() == "10001"
    finally:
        subprocess.run([engine.executable, "rm", "-f", name], capture_output=True, check=False)
        subprocess.run([engine.executable, "rmi", "-f", tag], capture_output=True, check=False)
