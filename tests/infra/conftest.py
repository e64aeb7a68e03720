"""Fixtures of the infrastructure tests: settings, and one synth per settings variant for the session.

Loading the CDK bindings starts a Node.js process and takes ~15 s, so the stack is synthesized once per
session (never in parallel workers) and every test reads the parsed JSON.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CHECKPOINT_DISABLE", "1")

from cdktf_app.config import Settings, settings_from_dict
from tests.infra.helpers import FULL_OPTIONS, Synthesized, raw_settings, synth


@pytest.fixture(scope="session")
def default_settings() -> Settings:
    """The repository's settings file with no environment overrides."""
    return settings_from_dict(raw_settings(), environ={})


@pytest.fixture(scope="session")
def full_settings() -> Settings:
    """The settings file with every optional feature on."""
    return settings_from_dict({**raw_settings(), **FULL_OPTIONS}, environ={})


@pytest.fixture(scope="session")
def stack(default_settings: Settings) -> Synthesized:
    """The stack as ``make synth`` builds it from the repository's settings."""
    return Synthesized(default_settings, synth(default_settings))


@pytest.fixture(scope="session")
def full_stack(full_settings: Settings) -> Synthesized:
    """The stack with every optional feature on."""
    return Synthesized(full_settings, synth(full_settings))


@pytest.fixture(params=["default", "full"])
def any_stack(request: pytest.FixtureRequest) -> Synthesized:
    """Each of the two synthesized variants in turn, for properties that hold in both."""
    return request.getfixturevalue("stack" if request.param == "default" else "full_stack")
