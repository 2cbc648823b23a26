"""Paths and small readers of a run directory and the workstation-wide lock."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from groot_ops.atomic import write_json

LOCK_NAME = "active.json"
SUPERVISOR_MODULE = "groot_ops.train.run_loop"
# The module name older groot-ops releases ran the supervisor under: a run it still owns holds the lock.
LEGACY_SUPERVISOR_MODULES = ("groot_ops.train.supervise",)
# A lock written by start() before the supervisor's pid is known stays valid this long.
STARTING_GRACE_S = 60.0


class RunFiles:
    SECRETS = "secrets.json"

    def __init__(self, runs_root: str | os.PathLike[str], recipe: str) -> None:
        self.runs_root = Path(runs_root)
        self.recipe = recipe
        self.dir = self.runs_root / recipe

    @property
    def status(self) -> Path:
        return self.dir / "status.json"

    @property
    def spec(self) -> Path:
        return self.dir / "spec.json"

    @property
    def cmdline(self) -> Path:
        return self.dir / "cmdline.json"

    @property
    def log(self) -> Path:
        return self.dir / "train.log"

    @property
    def pid(self) -> Path:
        return self.dir / "pid"

    @property
    def exit_code(self) -> Path:
        return self.dir / "exit_code"

    @property
    def secrets(self) -> Path:
        return self.dir / self.SECRETS

    @property
    def attempts(self) -> Path:
        return self.dir / "attempts.json"

    @property
    def launch(self) -> Path:
        return self.dir / "launch.json"

    @property
    def plot(self) -> Path:
        return self.dir / "loss.png"

    @property
    def supervisor_log(self) -> Path:
        return self.dir / "supervisor.log"


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def supervisor_alive(pid: int | None) -> bool:
    """The pid runs *our* supervisor (a recycled pid of another program does not count)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":
        return False  # a zombie waiting for its parent is finished
    return any(name.encode() in cmdline for name in (SUPERVISOR_MODULE, *LEGACY_SUPERVISOR_MODULES))


def lock_path(runs_root: str | os.PathLike[str]) -> Path:
    return Path(runs_root) / LOCK_NAME


def read_lock(runs_root: str | os.PathLike[str]) -> dict[str, Any] | None:
    return read_json(lock_path(runs_root))


def lock_is_live(lock: dict[str, Any]) -> bool:
    if lock.get("pid") is None:
        return time.time() - float(lock.get("created_at", 0)) < STARTING_GRACE_S
    return supervisor_alive(lock.get("pid"))


def try_acquire_lock(runs_root: str | os.PathLike[str], recipe: str) -> bool:
    """Create the lock atomically and complete (hardlink of a finished temp file); False if held."""
    root = Path(runs_root)
    root.mkdir(parents=True, exist_ok=True)
    payload = {
        "recipe": recipe,
        "pid": None,
        "host": socket.gethostname(),
        "created_at": time.time(),
        "run_dir": str(root / recipe),
    }
    fd, tmp = tempfile.mkstemp(prefix=".active.", suffix=".tmp", dir=root)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle)
        os.link(tmp, root / LOCK_NAME)
        return True
    except FileExistsError:
        return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def set_lock_pid(runs_root: str | os.PathLike[str], recipe: str, pid: int) -> None:
    lock = read_lock(runs_root)
    if lock is None or lock.get("recipe") != recipe:
        return  # the run already ended and released it: never resurrect a lock
    lock.update({"recipe": recipe, "pid": pid})
    write_json(lock_path(runs_root), lock)


def release_lock(runs_root: str | os.PathLike[str], recipe: str, pid: int | None = None) -> bool:
    """Remove the lock only when it is this run's (recipe, and pid when given)."""
    lock = read_lock(runs_root)
    if lock is None or lock.get("recipe") != recipe:
        return False
    if pid is not None and lock.get("pid") not in (None, pid):
        return False
    with contextlib.suppress(FileNotFoundError):
        lock_path(runs_root).unlink()
    return True


def remove_stale_lock(runs_root: str | os.PathLike[str], seen: dict[str, Any]) -> bool:
    """Remove the lock only if it is still the dead one we looked at (not a fresh launch's)."""
    current = read_lock(runs_root)
    if current != seen or lock_is_live(current):
        return False
    with contextlib.suppress(FileNotFoundError):
        lock_path(runs_root).unlink()
    return True
