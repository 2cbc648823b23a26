"""The session-wide lab for end-to-end tests: brought up once, reused, removed at the end."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from groot_ops.lab import bringup, layout
from groot_ops.lab.docker import containers_with_label, engine_answers, inspect

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def lab() -> Iterator[dict[str, Any]]:
    if not engine_answers():
        pytest.fail("no Docker engine answers: run `make docker` (tests/lab/ensure-docker.sh) first")
    # The tests share the one lab of this checkout (`make lab`): container names are global.
    state = bringup.up(REPO)
    yield state
    # The playbook logs outlive the lab, for whoever reads a failure.
    logs = REPO / ".lab" / "logs"
    if logs.is_dir():
        shutil.copytree(logs, REPO / ".cache" / "lab-e2e" / "logs", dirs_exist_ok=True)
    result = bringup.down(REPO)
    # `lab down` must leave nothing behind: no lab container (also none a role created), no network.
    assert not containers_with_label(layout.LABEL), result
    assert inspect("network", layout.NETWORK) is None and inspect("network", layout.EDGE_NETWORK) is None
    assert not any(inspect("container", name) for name in ("lab-ws-dm-workstation", "groot-server"))
    assert not (REPO / ".lab").exists()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``fresh_lab`` meet the lab before any other test has run a stage on it."""
    fresh = [item for item in items if item.get_closest_marker("fresh_lab")]
    if fresh:
        items[:] = fresh + [item for item in items if item not in fresh]
