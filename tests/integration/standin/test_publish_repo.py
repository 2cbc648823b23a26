"""publish_repo.sh: a git repository of the stand-in tagged n1.6.1-release, stable across re-runs."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.ansible_helpers import REPO_ROOT

SCRIPT = REPO_ROOT / "tests" / "standins" / "publish_repo.sh"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def test_publish_is_tagged_and_idempotent(tmp_path: Path) -> None:
    dest = tmp_path / "Isaac-GR00T"
    first = subprocess.run(
        ["bash", str(SCRIPT), str(dest)], check=True, capture_output=True, text=True
    ).stdout
    assert git(dest, "rev-parse", "n1.6.1-release^{commit}") == first.strip()
    files = git(dest, "ls-tree", "-r", "--name-only", "n1.6.1-release").splitlines()
    assert "gr00t/experiment/launch_finetune.py" in files and "gr00t/eval/run_gr00t_server.py" in files
    assert not any("__pycache__" in name for name in files)
    second = subprocess.run(
        ["bash", str(SCRIPT), str(dest)], check=True, capture_output=True, text=True
    ).stdout
    assert second == first
    assert git(dest, "rev-list", "--count", "HEAD") == "1"


def test_usage_error_without_destination() -> None:
    result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 2 and "usage:" in result.stderr
