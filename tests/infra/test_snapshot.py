"""Snapshot of the whole synthesized stack; update with
``.venv/bin/python -m pytest tests/infra --snapshot-update`` and review the diff."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from tests.infra.helpers import Synthesized


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def test_stack_matches_the_snapshot(stack: Synthesized, snapshot_json) -> None:
    assert stack.doc == snapshot_json


def test_synthesized_stack_holds_no_machine_specific_path(stack: Synthesized) -> None:
    for path in {Path.cwd(), Path.home(), Path(__file__).resolve().parents[2]}:
        assert str(path) not in stack.text or str(path) == "/", path
    assert "tfstate" not in json.dumps(stack.doc["terraform"])
