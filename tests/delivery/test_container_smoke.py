"""The three production images, built from the real Dockerfiles and run together as ECS runs them.

Marker ``container`` (``make images-smoke`` runs only these). Needs a working podman or docker and,
where the Python base image is not present, debootstrap to build its stand-in once; skipped with
the reason otherwise (``.ci/run`` installs podman, debootstrap and runc). Several minutes the first
time on a machine (base image, dependency layers); about two minutes with the layers cached.
"""

from __future__ import annotations

import warnings

import pytest
import requests

from apis.core.schemas import ErrorResponse
from apis.depth.schemas import PredictDepthResponse
from apis.detection.schemas import DetectResponse
from delivery import image_smoke, task_definitions
from delivery.base_image import arg_default, ensure_base_image
from delivery.engine import detect_engine
from delivery.images import IMAGES, ROOT
from delivery.routes import DEPTH, DETECTION, SERVICES, UI
from tests.support.browser import launched_chromium

pytestmark = [pytest.mark.container, pytest.mark.slow, pytest.mark.timeout(2400)]
# The model APIs' POST routes and the response model each answer must validate against.
CONTRACTS = [(DETECTION, "/detect", DetectResponse), (DEPTH, "/predict_depth", PredictDepthResponse)]


def say(request, text: str) -> None:
    """Print past pytest's capture: build times and sizes belong in the CI log."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if capture is None:  # pytest -p no:capture
        print(f"\n[container smoke] {text}", flush=True)
        return
    with capture.global_and_fixture_disabled():
        print(f"\n[container smoke] {text}", flush=True)


@pytest.fixture(scope="module")
def engine(request):
    found = detect_engine()
    if found is None:
        pytest.skip("container smoke skipped: no working docker or podman (.ci/run installs podman)")
    base = arg_default(ROOT / IMAGES[0].dockerfile, "PYTHON_IMAGE")
    try:
        how = ensure_base_image(found, base)
    except RuntimeError as exc:  # no debootstrap: cannot make the stand-in
        pytest.skip(f"container smoke skipped: base image {base} missing and {exc}")
    say(request, f"{found.name}; base image {base}: {how}")
    return image_smoke.for_this_machine(found)


@pytest.fixture(scope="module")
def built(engine, request, tmp_path_factory, images_dir):
    export_dir = image_smoke.export_test_models(tmp_path_factory.mktemp("export"), images_dir)
    images = image_smoke.build_images(engine, export_dir)
    lines, grown = image_smoke.size_report(images, image_smoke.recorded_sizes())
    say(request, "image build time and size:\n  " + "\n  ".join(lines))
    for message in grown:
        say(request, f"SIZE GROWTH: {message}")
        warnings.warn(message, stacklevel=1)
    return {image.spec.service: image.reference for image in images}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    stack = task_definitions.synthesize(tmp_path_factory.mktemp("synth"))
    return task_definitions.container_runs(stack, SERVICES)


@pytest.fixture(scope="module")
def stack(engine, built, runs, request):
    with image_smoke.running(engine, built, runs) as running:
        for route in SERVICES:
            seconds = image_smoke.wait_healthy(engine, running.containers[route.name])
            say(request, f"{route.name}: HEALTHCHECK passed after {seconds:.0f} s")
        yield running


def test_each_container_passes_the_task_definitions_health_command_too(stack, runs):
    for route in SERVICES:
        argv = task_definitions.exec_form(runs[route.name].health_command)
        result = image_smoke.exec_in(stack.engine, stack.containers[route.name], *argv)
        assert result.returncode == 0, f"{route.name}: {argv}: {result.stdout}{result.stderr}"


@pytest.mark.parametrize(("route", "path", "contract"), CONTRACTS, ids=lambda v: getattr(v, "name", None))
def test_the_api_answers_bus_jpg_with_the_contract(stack, photo_bytes, route, path, contract):
    response = requests.post(
        stack.url(route, route.path_prefix + path),
        files={"image": ("bus.jpg", photo_bytes["bus.jpg"], "image/jpeg")},
        timeout=120,
    )

    assert response.status_code == 200, response.text
    body = contract.model_validate(response.json())
    assert body.image_info.original_size == [1080, 810]
    assert (body.model if route is DETECTION else body.model_info).backend == "onnx"


@pytest.mark.parametrize(("route", "path", "contract"), CONTRACTS, ids=lambda v: getattr(v, "name", None))
def test_a_broken_upload_gets_the_json_error(stack, route, path, contract):
    response = requests.post(
        stack.url(route, route.path_prefix + path),
        files={"image": ("bus.jpg", b"not a picture", "image/jpeg")},
        timeout=30,
    )

    assert response.status_code == 400, response.text
    assert ErrorResponse.model_validate(response.json()).code == "invalid_image"


def test_the_page_answers_its_health_route(stack):
    response = requests.get(stack.url(UI, UI.health_path), timeout=10)

    assert response.status_code == 200 and response.text.strip() == UI.health_body


@pytest.mark.parametrize("route", SERVICES, ids=lambda r: r.name)
def test_every_process_is_the_non_root_user_and_only_tmp_is_writable(stack, runs, route):
    writable = runs[route.name].writable_paths
    folders = ["/", "/app", "/opt/venv", "/usr/local/bin", "/etc", *writable]

    seen = image_smoke.probe(stack.engine, stack.containers[route.name], folders)

    servers = {pid: p for pid, p in seen["processes"].items() if "objdepth-write-probe" not in p["cmd"]}
    assert servers, seen
    for process in servers.values():
        assert 0 not in process["uids"], f"{route.name}: {process}"
    assert {f: seen["writes"][f] for f in writable} == dict.fromkeys(writable, "written")
    refused = {f: why for f, why in seen["writes"].items() if f not in writable}
    assert all(why != "written" for why in refused.values()), refused


@pytest.mark.browser
def test_the_page_analyses_a_photo_in_chromium(stack, images_dir):
    with launched_chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.goto(stack.url(UI, "/"), wait_until="domcontentloaded")
        page.locator("input[type=file]").set_input_files(str(images_dir / "bus.jpg"))
        page.get_by_text("bus.jpg · click Analyze").wait_for(timeout=60_000)
        page.get_by_role("button", name="Analyze", exact=True).click()
        page.get_by_text("Analysis finished", exact=True).wait_for(timeout=120_000)
        page.locator("[data-testid='stDataFrame']").wait_for(timeout=30_000)
