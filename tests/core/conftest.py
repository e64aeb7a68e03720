"""The toy service in a real app (the same factory the APIs use)."""

from __future__ import annotations

import pytest

from apis.core.app import create_app
from apis.core.settings import CoreSettings
from tests.core.toy import ToyService


@pytest.fixture()
def toy_service() -> ToyService:
    return ToyService()


@pytest.fixture()
def toy_app(toy_service):
    app = create_app(toy_service, CoreSettings(max_waiting=1, queue_timeout_s=0.5), load_in_background=False)
    app.config["TESTING"] = True
    return app


@pytest.fixture()
def client(toy_app):
    return toy_app.test_client()
