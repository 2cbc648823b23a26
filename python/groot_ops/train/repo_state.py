"""The controller checkout's commit and whether its tracked files differ from it (launch provenance).

One ``git status --porcelain=v2 --branch --untracked-files=no``: the commit is its ``# branch.oid`` line
and every other line is a changed tracked file. Not a git checkout (an installed copy, a tarball), or no
git: both are None, and the launch records no commit rather than a wrong one.
"""

from __future__ import annotations

import re
import subprocess
from typing import TypedDict

_OID = re.compile(r"^# branch\.oid ([0-9a-f]{40})$")


class RepoState(TypedDict):
    commit: str | None
    dirty: bool | None


def parse_status(text: str) -> RepoState:
    """The state from the status output; a checkout without a commit yet has none."""
    commit = next((m.group(1) for line in text.splitlines() if (m := _OID.match(line))), None)
    if commit is None:
        return {"commit": None, "dirty": None}
    dirty = any(line and not line.startswith("#") for line in text.splitlines())
    return {"commit": commit, "dirty": dirty}


def repo_state(path: str) -> RepoState:
    try:
        proc = subprocess.run(
            ["git", "-C", path, "status", "--porcelain=v2", "--branch", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    if proc.returncode != 0:
        return {"commit": None, "dirty": None}
    return parse_status(proc.stdout)
