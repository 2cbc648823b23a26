"""Two checkouts, one engine: the lab's names and ports are global, so a second lab must say whose they are.

The "other checkout" is an empty directory named by GROOT_OPS_REPO: ``lab up`` there must stop before
touching anything, naming this checkout's lab and how to take it down; ``lab down`` there must leave
this lab running.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from groot_ops.lab import layout
from groot_ops.lab.docker import container_running

pytestmark = [pytest.mark.lab, pytest.mark.docker, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]


def _lab(command: str, checkout: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GROOT_OPS_REPO": str(checkout)}
    return subprocess.run([sys.executable, "-m", "groot_ops", "lab", command], env=env, cwd=checkout,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip


def test_a_lab_from_another_checkout_is_named_with_how_to_take_it_down(
    lab: dict[str, Any], tmp_path: Path
) -> None:
    other = tmp_path / "other-checkout"
    other.mkdir()
    up = _lab("up", other)
    assert up.returncode == 1, up.stdout + up.stderr
    first = up.stderr.strip().splitlines()[0]
    assert first.startswith(f"groot-ops: error: a lab from another checkout ({REPO}) is up"), first
    assert f"make -C {REPO} lab-down" in first
    assert "127.0.0.1:22021" in first and "lab-ws" in first
    assert not (other / ".lab").exists(), "lab up went on after finding another checkout's lab"
    down = _lab("down", other)
    assert down.returncode == 0, down.stdout + down.stderr
    assert "left alone: " in down.stdout and str(REPO) in down.stdout
    assert all(container_running(host.name) for host in layout.HOSTS)
    assert container_running(layout.HUB_CONTAINER)
