"""The groot-ops checkout the controller runs from: where playbooks/, inventory/ and .lab/ are."""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """``GROOT_OPS_REPO`` if set, else the checkout this package was installed from (editable), else cwd."""
    env = os.environ.get("GROOT_OPS_REPO")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "playbooks").is_dir() and (parent / "ansible.cfg").is_file():
            return parent
    return Path.cwd().resolve()
