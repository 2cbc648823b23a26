"""Evidence of an OOM kill: the kernel's and the container cgroup's OOM-kill counters.

A trainer that dies of SIGKILL was killed by the kernel's OOM killer only if one of these counters
moved while it ran; otherwise a person or a program sent the signal. ``/proc/vmstat``'s ``oom_kill`` is
the kernel's (host-wide: an OOM kill anywhere on the host counts); the cgroup's ``memory.events``
(v2) or ``memory.oom_control`` (v1) is this container's.
"""

from __future__ import annotations

import re
from pathlib import Path

KERNEL = Path("/proc/vmstat")
CGROUP_FILES = (Path("/sys/fs/cgroup/memory.events"), Path("/sys/fs/cgroup/memory/memory.oom_control"))
_COUNT = re.compile(r"^oom_kill\s+(\d+)\s*$", re.MULTILINE)


def _read(path: Path) -> int | None:
    try:
        match = _COUNT.search(path.read_text())
    except OSError:
        return None
    return int(match.group(1)) if match else None


def counters(kernel: Path = KERNEL, cgroup_files: tuple[Path, ...] = CGROUP_FILES) -> dict[str, int]:
    """``{"kernel": n, "cgroup": n}`` for the counters this host exposes."""
    found: dict[str, int] = {}
    value = _read(kernel)
    if value is not None:
        found["kernel"] = value
    for path in cgroup_files:
        value = _read(path)
        if value is not None:
            found["cgroup"] = value
            break
    return found


def evidence(before: dict[str, int], after: dict[str, int]) -> str | None:
    """What recorded OOM kills between the two readings, in words; None when nothing did."""
    moved = [
        f"{name} oom_kill {before[name]} -> {after[name]}"
        for name in after
        if name in before and after[name] > before[name]
    ]
    if not moved:
        return None
    return "OOM kill recorded: " + ", ".join(moved)
