"""Several directories in one step: created when missing, mode and owner set when they differ.

One call instead of a ``file`` loop: every loop item is a round trip to the host (a new module start,
over the container hosts' engine connection a Docker exec), and a playbook run creates a few such sets.
The same rules as ``ansible.builtin.file state=directory``: missing parents are created with the same
mode and owner, an existing non-directory is an error, check mode reports without writing.
Standard library only: the ``groot_directories`` module ships this file as
``module_utils/groot_ops_directories.py`` to hosts without groot_ops (the engine hosts).
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

try:
    from groot_ops.errors import ConfigError
except ImportError:  # shipped as Ansible module_utils to hosts without groot_ops

    class ConfigError(ValueError):  # type: ignore[no-redef]
        pass


def _uid(owner: str | None) -> int | None:
    if owner in (None, ""):
        return None
    if str(owner).isdigit():
        return int(owner)
    try:
        return pwd.getpwnam(str(owner)).pw_uid
    except KeyError:
        raise ConfigError(f"owner {owner!r} is not a user on this host") from None


def _gid(group: str | None) -> int | None:
    if group in (None, ""):
        return None
    if str(group).isdigit():
        return int(group)
    try:
        return grp.getgrnam(str(group)).gr_gid
    except KeyError:
        raise ConfigError(f"group {group!r} is not a group on this host") from None


def _mode(mode: str | int | None) -> int | None:
    if mode in (None, ""):
        return None
    if isinstance(mode, int):
        return mode
    try:
        return int(str(mode), 8)
    except ValueError:
        raise ConfigError(f"mode must be octal like '0755', got {mode!r}") from None


def _state(path: Path) -> dict[str, Any]:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return {"state": "absent"}
    if not stat.S_ISDIR(info.st_mode):
        return {"state": "file" if stat.S_ISREG(info.st_mode) else "other"}
    return {
        "state": "directory",
        "mode": f"{stat.S_IMODE(info.st_mode):04o}",
        "uid": info.st_uid,
        "gid": info.st_gid,
    }


def ensure_directories(
    paths: Sequence[str],
    *,
    mode: str | int | None = None,
    owner: str | None = None,
    group: str | None = None,
    check: bool = False,
) -> dict[str, Any]:
    """Each of ``paths`` a directory with ``mode``/``owner``/``group`` (None: left as it is).

    Returns ``changed``, ``created`` (the directories made, parents included), ``updated`` (existing ones
    whose mode or owner was set) and ``diff`` (each path's state before and after).
    """
    want_mode, uid, gid = _mode(mode), _uid(owner), _gid(group)
    created: list[str] = []
    updated: list[str] = []
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for raw in paths:
        if not raw or not os.path.isabs(raw):
            raise ConfigError(f"directories must be absolute paths, got {raw!r}")
        target = Path(os.path.normpath(raw))
        before[str(target)] = _state(target)
        missing = [
            p
            for p in [target, *target.parents]
            if not p.exists() and not p.is_symlink() and str(p) not in created
        ]
        for path in reversed(missing):
            if not check:
                path.mkdir()
            created.append(str(path))
            if not check:
                _apply(path, want_mode, uid, gid)
        if not missing and str(target) not in created:
            current = before[str(target)]
            if current["state"] != "directory":
                if not target.is_dir():  # a symlink to a directory is used as the directory, like file does
                    raise ConfigError(f"{target} exists and is not a directory ({current['state']})")
                current = _state(target.resolve())
            if _differs(current, want_mode, uid, gid):
                updated.append(str(target))
                if not check:
                    _apply(target, want_mode, uid, gid)
        after[str(target)] = _wanted(before[str(target)], want_mode, uid, gid) if check else _state(target)
    return {
        "changed": bool(created or updated),
        "created": created,
        "updated": updated,
        "paths": [str(Path(os.path.normpath(p))) for p in paths],
        "diff": {"before": before, "after": after},
    }


def _differs(current: dict[str, Any], mode: int | None, uid: int | None, gid: int | None) -> bool:
    return (
        (mode is not None and current.get("mode") != f"{mode:04o}")
        or (uid is not None and current.get("uid") != uid)
        or (gid is not None and current.get("gid") != gid)
    )


def _wanted(current: dict[str, Any], mode: int | None, uid: int | None, gid: int | None) -> dict[str, Any]:
    out = {
        "state": "directory",
        "mode": current.get("mode"),
        "uid": current.get("uid"),
        "gid": current.get("gid"),
    }
    if mode is not None:
        out["mode"] = f"{mode:04o}"
    if uid is not None:
        out["uid"] = uid
    if gid is not None:
        out["gid"] = gid
    return out


def _apply(path: Path, mode: int | None, uid: int | None, gid: int | None) -> None:
    if uid is not None or gid is not None:
        os.chown(path, -1 if uid is None else uid, -1 if gid is None else gid)
    if mode is not None:
        os.chmod(path, mode)
