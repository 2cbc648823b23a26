"""The controller checkout's commit and dirtiness for the launch record, read with one git status."""

from __future__ import annotations

import subprocess
from pathlib import Path

from groot_ops.train.repo_state import parse_status, repo_state
from tests.unit.modules.harness import run_action


def _git(repo: Path, *argv: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *argv],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_commit_then_dirty_then_clean_again_in_a_real_checkout(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    assert repo_state(str(tmp_path)) == {"commit": None, "dirty": None}  # no commit yet
    (tmp_path / "a.txt").write_text("1")
    _git(tmp_path, "add", "a.txt")
    _git(tmp_path, "commit", "-q", "-m", "one")
    head = _git(tmp_path, "rev-parse", "HEAD")
    (tmp_path / "untracked.txt").write_text("not part of the tree")
    assert repo_state(str(tmp_path)) == {"commit": head, "dirty": False}
    (tmp_path / "a.txt").write_text("2")
    assert repo_state(str(tmp_path)) == {"commit": head, "dirty": True}
    result = run_action("groot_controller_repo", {"path": str(tmp_path)}, check=True)
    assert result == {"changed": False, "commit": head, "dirty": True}


def test_not_a_checkout_gives_no_commit_rather_than_a_wrong_one(tmp_path: Path) -> None:
    assert repo_state(str(tmp_path / "absent")) == {"commit": None, "dirty": None}
    assert repo_state(str(tmp_path)) == {"commit": None, "dirty": None}


def test_parse_reads_the_oid_line_and_counts_only_change_lines() -> None:
    oid = "a" * 40
    text = f"# branch.oid {oid}\n# branch.head main\n1 .M N... 100644 100644 100644 x y README.md\n"
    assert parse_status(text) == {"commit": oid, "dirty": True}
    assert parse_status(f"# branch.oid {oid}\n# branch.head main\n") == {"commit": oid, "dirty": False}
    assert parse_status("# branch.oid (initial)\n# branch.head main\n") == {"commit": None, "dirty": None}
