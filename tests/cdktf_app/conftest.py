"""Fixtures of the infrastructure tests: settings, and one synth per profile for the session.

Loading the CDK bindings starts a Node.js process and takes ~15 s, so the stack is synthesized once per
profile per session (never in parallel workers) and every test reads the parsed JSON: ``stack`` is the
repository's settings (the demo profile), ``full_stack`` the production profile with every option on,
``gpu_stack`` that production stack with the APIs on GPU capacity.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CHECKPOINT_DISABLE", "1")

from cdktf_app.config import Settings
from cdktf_app.settings_file import settings_from_dict
from tests.cdktf_app.helpers import DEPLOYED, FULL_OPTIONS, GPU_OPTIONS, Synthesized, raw_settings, synth


@pytest.fixture(scope="session")
def default_settings() -> Settings:
    """The repository's settings file (demo profile) after one deploy: account and image tag known."""
    return settings_from_dict(raw_settings(), environ=DEPLOYED)


@pytest.fixture(scope="session")
def full_settings() -> Settings:
    """The production profile with every optional feature on."""
    return settings_from_dict({**raw_settings(), **FULL_OPTIONS}, environ=DEPLOYED)


@pytest.fixture(scope="session")
def stack(default_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The demo stack as ``make synth`` writes it."""
    return Synthesized(default_settings, synth(default_settings, tmp_path_factory.mktemp("demo")))


@pytest.fixture(scope="session")
def full_stack(full_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The production stack with every optional feature on, as ``make synth`` writes it."""
    return Synthesized(full_settings, synth(full_settings, tmp_path_factory.mktemp("production")))


@pytest.fixture(scope="session")
def gpu_stack(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The production stack with every optional feature on and the APIs on GPU capacity."""
    settings = settings_from_dict({**raw_settings(), **FULL_OPTIONS, **GPU_OPTIONS}, environ=DEPLOYED)
    return Synthesized(settings, synth(settings, tmp_path_factory.mktemp("gpu")))


@pytest.fixture(params=["default", "full"])
def any_stack(request: pytest.FixtureRequest) -> Synthesized:
    """Each of the two synthesized variants in turn, for properties that hold in both."""
    return request.getfixturevalue("stack" if request.param == "default" else "full_stack")
