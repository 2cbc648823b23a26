"""The session-wide lab for end-to-end tests: brought up once, reused, removed at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from groot_ops.lab import bringup
from groot_ops.lab.docker import engine_answers

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def lab() -> Iterator[dict[str, Any]]:
    if not engine_answers():
        pytest.fail("no Docker engine answers: run `make docker` (tests/lab/ensure-docker.sh) first")
    # The tests share the one lab of this checkout (`make lab`): container names are global.
    state = bringup.up(REPO)
    yield state
    bringup.down(REPO)
