"""Lifecycle, model resolution, /model-info, prefix routes, metrics and the real gunicorn server."""

from __future__ import annotations

import json
import shutil
import threading

import pytest
import requests

from apis.core.app import create_app
from apis.core.service import ModelLoadError, ModelState
from apis.core.settings import CoreSettings
from apis.depth import weights
from apis.depth.service import DepthService
from apis.depth.settings import DEFAULT_MODEL, DepthSettings
from delivery.routes import DEPTH
from tests.depth.conftest import TEST_INPUT_SIZE
from tests.depth.helpers import detection, predict
from tests.support.images import encode, gradient
from tests.support.metrics import metric_value
from tests.support.servers import run_api


@pytest.fixture(scope="module")
def small_photo() -> bytes:
    return encode(gradient(96, 64), "JPEG")


def test_health_is_503_until_the_model_is_loaded_and_warm(tiny_depth_model, small_photo, monkeypatch):
    service = DepthService(DepthSettings(model=str(tiny_depth_model), allow_download=False))
    may_load, real_setup = threading.Event(), service.setup
    monkeypatch.setattr(
        service, "setup", lambda: (may_load.wait(60), real_setup())
    )  # loads when the test says
    app = create_app(service, CoreSettings())
    client = app.test_client()

    loading = client.get("/depthapi/health")
    assert loading.status_code == 503 and loading.get_json()["status"] == "loading"
    busy = predict(client, small_photo)
    assert busy.status_code == 503 and busy.get_json()["code"] == "model_loading"
    assert "Retry-After" in busy.headers
    assert client.get("/model-info").status_code == 503

    may_load.set()
    assert app.extensions["model_host"].wait(120) is ModelState.READY
    assert client.get("/depthapi/health").status_code == 200
    assert predict(client, small_photo).status_code == 200


def test_a_folder_that_is_not_a_model_fails_fast_and_health_says_why(tmp_path):
    app = create_app(
        DepthService(DepthSettings(model=str(tmp_path))), CoreSettings(), load_in_background=False
    )
    response = app.test_client().get("/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "failed"
    assert (
        str(tmp_path) in body["error"]
        and "no config.json" in body["error"]
        and "MODELS=demo" in body["error"]
    )


def test_an_unknown_default_colormap_fails_when_the_service_is_built():
    with pytest.raises(KeyError, match="unknown colormap"):
        DepthService(DepthSettings(colormap="nope"))


def test_settings_come_from_depth_environment_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("DEPTH_MODEL", str(tmp_path))
    monkeypatch.setenv("DEPTH_INPUT_SIZE", "364")
    monkeypatch.setenv("DEPTH_ALLOW_DOWNLOAD", "false")
    settings = DepthSettings()
    assert (settings.model, settings.input_size, settings.allow_download) == (str(tmp_path), 364, False)
    assert (
        DepthSettings.model_fields["model"].default
        == DEFAULT_MODEL
        == "depth-anything/Depth-Anything-V2-Small-hf"
    )


# ---------------------------------------------------------------- model resolution


def test_a_local_folder_is_used_as_it_is(tiny_depth_model):
    assert weights.resolve_model(str(tiny_depth_model), allow_download=False) == tiny_depth_model


@pytest.mark.parametrize("model", ["./missing-folder", "/nowhere/at/all", "not-an-id"])
def test_paths_that_do_not_exist_are_never_sent_to_the_hub(model):
    with pytest.raises(ModelLoadError, match="is not a model folder"):
        weights.resolve_model(model, allow_download=True)


def test_a_model_id_is_not_downloaded_when_downloads_are_off(tmp_path):
    with pytest.raises(ModelLoadError, match="DEPTH_ALLOW_DOWNLOAD is false"):
        weights.resolve_model(DEFAULT_MODEL, cache_dir=tmp_path, allow_download=False)


def test_offline_mode_turns_a_download_into_a_clear_error(tmp_path):
    # HF_HUB_OFFLINE=1 (root conftest): no socket is opened, the network guard would fail the test.
    with pytest.raises(ModelLoadError, match="could not download depth-anything/Depth-Anything-V2-Small-hf"):
        weights.resolve_model(DEFAULT_MODEL, cache_dir=tmp_path, allow_download=True)


def test_a_model_id_in_the_hub_cache_is_loaded_from_there(tmp_path, tiny_depth_model, capsys, monkeypatch):
    """What ``python -m apis.depth.weights`` leaves in the image is found again at start-up, offline."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "models--depth-anything--Depth-Anything-V2-Small-hf"
    shutil.copytree(tiny_depth_model, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    found = weights.resolve_model(DEFAULT_MODEL, cache_dir=tmp_path, allow_download=False)
    assert found == repo / "snapshots" / commit

    monkeypatch.setenv("DEPTH_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("DEPTH_ALLOW_DOWNLOAD", "false")
    weights.main()
    assert str(found) in capsys.readouterr().out


# ---------------------------------------------------------------- routes, info, metrics


@pytest.mark.parametrize("prefix", ["", "/depthapi"])
def test_every_route_is_served_at_the_root_and_under_the_prefix(
    client, small_photo, prefix, tiny_depth_model
):
    assert client.get(f"{prefix}/health").status_code == 200
    info = client.get(f"{prefix}/model-info").get_json()
    assert info["success"] is True and info["service"] == "depth"
    assert info["model"] == str(tiny_depth_model) and info["model_path"] == str(tiny_depth_model)
    assert (info["device"], info["input_size"], info["depth_semantics"]) == (
        "cpu",
        TEST_INPUT_SIZE,
        "relative_inverse",
    )
    assert info["max_depth_m"] is None and info["parameters"] > 0
    assert info["defaults"] == {"colormap": "Spectral_r", "box_core": 0.5}
    assert client.get(f"{prefix}/metrics").status_code == 200
    assert predict(client, small_photo, path=f"{prefix}/predict_depth").status_code == 200


def test_metric_models_say_their_values_are_meters(metric_app, small_photo):
    client = metric_app.test_client()
    info = client.get("/model-info").get_json()
    assert info["depth_semantics"] == "metric_meters" and info["max_depth_m"] == 20.0
    body = predict(
        client, small_photo, detections=[detection(10, 10, 60, 50)], include_depth_map="true"
    ).get_json()
    assert body["depth_semantics"] == body["depth_map"]["semantics"] == "metric_meters"
    assert 0 <= body["depth_stats"]["min_depth"] <= body["depth_stats"]["max_depth"] <= 20.0
    assert body["depth_at_objects"][0]["rank"] == 1


def test_input_size_sets_the_side_the_model_sees(tiny_depth_model, small_photo):
    """518 by default; transformers scales as little as possible, so a small photo's long side becomes 518."""
    app = create_app(
        DepthService(DepthSettings(model=str(tiny_depth_model))), CoreSettings(), load_in_background=False
    )
    service = app.extensions["model_host"].service
    seen: list[tuple[int, ...]] = []
    service.estimator._model.register_forward_pre_hook(
        lambda _m, _args, kwargs: seen.append(tuple(kwargs["pixel_values"].shape)), with_kwargs=True
    )
    client = app.test_client()
    assert client.get("/model-info").get_json()["input_size"] == 518
    body = predict(client, small_photo, include_images="false").get_json()  # 96 x 64
    assert body["model_info"]["input_size"] == 518 and body["image_info"]["original_size"] == [64, 96]
    assert seen == [(1, 3, 350, 518)]  # 64 x 96 scaled by 518 / 96, rounded to multiples of 14


def test_request_stages_reach_the_metrics(client, small_photo):
    before = {
        stage: metric_value(client, "api_stage_seconds_count", stage=stage)
        for stage in ("decode", "queue", "inference", "postprocess", "encode")
    }
    errors_before = metric_value(client, "api_errors_total", code="invalid_parameter")
    inference_before = metric_value(client, "model_inference_seconds_count")
    assert predict(client, small_photo).status_code == 200
    assert predict(client, small_photo, colormap="nope").status_code == 400
    for stage, count in before.items():
        assert metric_value(client, "api_stage_seconds_count", stage=stage) == count + 1, stage
    assert metric_value(client, "model_inference_seconds_count") == inference_before + 1
    assert metric_value(client, "api_errors_total", code="invalid_parameter") == errors_before + 1


# ---------------------------------------------------------------- the real server


@pytest.mark.slow
def test_real_gunicorn_server(tmp_path, tiny_depth_model, photo_bytes):
    env = {"DEPTH_MODEL": str(tiny_depth_model), "DEPTH_ALLOW_DOWNLOAD": "false", "GUNICORN_THREADS": "2"}
    with run_api(DEPTH, workdir=tmp_path, env=env) as server:
        boxes = [detection(50, 400, 250, 900, "person"), detection(0, 230, 810, 750, "bus", 0.88)]
        response = requests.post(
            f"{server.url}/depthapi/predict_depth",
            files={"image": ("bus.jpg", photo_bytes["bus.jpg"])},
            data={"detections": json.dumps(boxes), "image_info": '{"camera": "front"}'},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["image_info"] == {
            "camera": "front",
            "original_size": [1080, 810],
            "filename": "bus.jpg",
            "format": "JPEG",
        }
        assert sorted(o["rank"] for o in body["depth_at_objects"]) == [1, 2]
        assert body["images"]["depth_visualization"].startswith("data:image/jpeg;base64,")
        assert response.headers["X-Request-ID"]
        bad = requests.post(
            f"{server.url}/predict_depth",
            files={"image": ("bus.jpg", photo_bytes["bus.jpg"])},
            data={"midpoints": "[{"},
            timeout=60,
        )
        assert bad.status_code == 400 and bad.json()["field"] == "midpoints"
        nested = requests.post(
            f"{server.url}/predict_depth",
            files={"image": ("bus.jpg", photo_bytes["bus.jpg"])},
            data={"detections": "[" * 1000 + "]" * 1000},
            timeout=60,
        )
        assert nested.status_code == 400 and nested.json()["field"] == "detections"
        huge = requests.post(
            f"{server.url}/predict_depth",
            files={"image": ("bus.jpg", photo_bytes["bus.jpg"])},
            data={"image_info": '{"pad": "' + "x" * 1_000_000 + '"}'},
            timeout=60,
        )
        assert huge.status_code == 413 and huge.json()["field"] == "image_info"
    assert "POST /depthapi/predict_depth 200" in server.output()
