"""The workstation lock: atomic create, owner-only release, no resurrection, stale removal."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from groot_ops.train import runfiles


def test_lock_is_exclusive_and_released_only_by_its_recipe(tmp_path: Path) -> None:
    assert runfiles.try_acquire_lock(tmp_path, "a")
    assert not runfiles.try_acquire_lock(tmp_path, "b")
    lock = runfiles.read_lock(tmp_path)
    assert lock is not None and lock["recipe"] == "a" and lock["pid"] is None
    assert runfiles.lock_is_live(lock)  # just created by a launch in progress
    assert not runfiles.release_lock(tmp_path, "b")
    runfiles.set_lock_pid(tmp_path, "a", 4242)
    assert not runfiles.release_lock(tmp_path, "a", pid=1)
    assert runfiles.release_lock(tmp_path, "a", pid=4242)
    assert runfiles.read_lock(tmp_path) is None
    runfiles.set_lock_pid(tmp_path, "a", 4242)  # a run that already ended: nothing comes back
    assert runfiles.read_lock(tmp_path) is None
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".active.")]  # no temp files left


def test_only_a_live_supervisor_holds_the_lock(tmp_path: Path) -> None:
    # This test process is alive but is not a supervisor: a recycled pid must not count.
    assert not runfiles.supervisor_alive(os.getpid())
    assert not runfiles.supervisor_alive(None)
    old = {"recipe": "a", "pid": None, "created_at": time.time() - 3600}
    assert not runfiles.lock_is_live(old)
    runfiles.lock_path(tmp_path).write_text(json.dumps(old))
    assert not runfiles.remove_stale_lock(tmp_path, {**old, "recipe": "other"})  # not what we saw
    assert runfiles.remove_stale_lock(tmp_path, old)
    assert runfiles.read_lock(tmp_path) is None
