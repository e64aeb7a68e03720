"""Depth apps built through the real factory and loading path, with tiny random Depth Anything models."""

from __future__ import annotations

from pathlib import Path

import pytest

from apis.core.app import create_app
from apis.core.settings import CoreSettings
from apis.depth.cache import DepthMapCache
from apis.depth.demo import build_random_depth_anything
from apis.depth.service import DepthService
from apis.depth.settings import DepthSettings


@pytest.fixture(scope="session")
def tiny_depth_model(tmp_path_factory) -> Path:
    """A 4-layer Depth Anything V2 (relative depth) with random weights, saved like a hub model."""
    return build_random_depth_anything(tmp_path_factory.mktemp("depth") / "tiny-da-v2", tiny=True)


@pytest.fixture(scope="session")
def tiny_metric_model(tmp_path_factory) -> Path:
    """The same with the metric head (meters, up to 20)."""
    return build_random_depth_anything(
        tmp_path_factory.mktemp("depth") / "tiny-da-v2-metric", tiny=True, metric=True
    )


# The model's own preprocessor says 518; tests ask for less to stay fast on two shared cores.
TEST_INPUT_SIZE = 266


def build_app(model: Path, **settings):
    settings.setdefault("input_size", TEST_INPUT_SIZE)
    core = CoreSettings(max_upload_mb=2.0, max_pixels=4_000_000)
    service = DepthService(DepthSettings(model=str(model), allow_download=False, **settings), core)
    service.depth_cache = DepthMapCache(entries=0, max_bytes=0)  # every request runs the model
    app = create_app(service, core, load_in_background=False)
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="session")
def depth_app(tiny_depth_model):
    return build_app(tiny_depth_model)


@pytest.fixture(scope="session")
def metric_app(tiny_metric_model):
    return build_app(tiny_metric_model)


@pytest.fixture()
def client(depth_app):
    return depth_app.test_client()


@pytest.fixture()
def depth_service(depth_app) -> DepthService:
    return depth_app.extensions["model_host"].service
