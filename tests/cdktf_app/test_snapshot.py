"""Snapshot of the whole synthesized stack; update with
``.venv/bin/python -m pytest tests/cdktf_app --snapshot-update`` and review the diff."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from tests.cdktf_app.helpers import Synthesized


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def test_stack_matches_the_snapshot(stack: Synthesized, snapshot_json) -> None:
    assert stack.doc == snapshot_json


def test_production_stack_matches_the_snapshot(full_stack: Synthesized, snapshot_json) -> None:
    assert full_stack.doc == snapshot_json


def test_synthesized_stack_holds_no_machine_specific_path(any_stack: Synthesized) -> None:
    """The JSON is what `make synth` writes (backend included), so a local path would show here."""
    assert "backend" in any_stack.doc["terraform"]
    for path in {Path.cwd(), Path.home(), Path(__file__).resolve().parents[2]}:
        assert str(path) not in any_stack.text or str(path) == "/", path
    # Any absolute path under a home, temporary or work directory (the synth wrote into a temporary one).
    assert not re.search(r'"(/(home|root|tmp|Users|work)/|[A-Z]:\\\\)', any_stack.text)
