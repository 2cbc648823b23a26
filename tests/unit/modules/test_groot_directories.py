"""groot_directories: several directories in one module call, with file's rules, check mode and diff."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tests.unit.modules.harness import run_module


def _mode(path: Path) -> str:
    return f"{stat.S_IMODE(path.stat().st_mode):04o}"


def test_creates_missing_directories_and_parents_then_changes_nothing(tmp_path: Path) -> None:
    paths = [str(tmp_path / "ws" / name) for name in ("datasets", "checkpoints", "hf-cache")]
    args = {"paths": paths, "mode": "0775", "owner": str(os.getuid()), "group": str(os.getgid())}

    planned = run_module("groot_directories", args, check=True, diff=True)
    assert planned["changed"] is True and not (tmp_path / "ws").exists()
    assert planned["created"] == [str(tmp_path / "ws"), *paths]
    assert planned["diff"]["before"][paths[0]] == {"state": "absent"}
    assert planned["diff"]["after"][paths[0]]["mode"] == "0775"

    made = run_module("groot_directories", args)
    assert made["changed"] is True and made["created"] == planned["created"]
    assert all(_mode(Path(p)) == "0775" for p in [str(tmp_path / "ws"), *paths])

    again = run_module("groot_directories", args, check=True)
    assert again["changed"] is False and again["created"] == [] and again["updated"] == []
    assert run_module("groot_directories", args)["changed"] is False


def test_sets_a_differing_mode_and_leaves_an_unnamed_one(tmp_path: Path) -> None:
    loose = tmp_path / "state"
    loose.mkdir(mode=0o700)
    os.chmod(loose, 0o700)
    planned = run_module("groot_directories", {"paths": [str(loose)], "mode": "0755"}, check=True, diff=True)
    assert planned["updated"] == [str(loose)] and _mode(loose) == "0700"
    assert planned["diff"]["before"][str(loose)]["mode"] == "0700"
    assert run_module("groot_directories", {"paths": [str(loose)], "mode": "0755"})["changed"] is True
    assert _mode(loose) == "0755"
    assert run_module("groot_directories", {"paths": [str(loose)]})["changed"] is False


def test_a_file_in_the_way_and_a_relative_path_are_named(tmp_path: Path) -> None:
    blocker = tmp_path / "logs"
    blocker.write_text("")
    failed = run_module("groot_directories", {"paths": [str(blocker)], "mode": "0755"})
    assert failed["failed"] is True and f"{blocker} exists and is not a directory (file)" in failed["msg"]
    relative = run_module("groot_directories", {"paths": ["workspace/logs"]})
    assert relative["failed"] is True and "must be absolute" in relative["msg"]
    unknown = run_module("groot_directories", {"paths": [str(tmp_path / "x")], "owner": "no-such-user-groot"})
    assert unknown["failed"] is True and "'no-such-user-groot' is not a user" in unknown["msg"]
    assert not (tmp_path / "x").exists()
