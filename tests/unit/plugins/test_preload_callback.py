"""groot_preload: the connection plugins are imported once in ansible-playbook's main process, so the
worker that runs each task inherits them instead of importing them again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
DOCKER_API = "ansible_collections.community.docker.plugins.connection.docker_api"

# Evaluated inside the worker that runs the task: what that process has imported.
FILTER = """
import sys

class FilterModule:
    def filters(self):
        return {"groot_test_imported": lambda name: name in sys.modules}
"""

PLAYBOOK = f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: what the worker has imported
      ansible.builtin.debug:
        msg: "imported={{{{ '{DOCKER_API}' | groot_test_imported }}}}"
"""


def _imported_in_worker(tmp_path: Path, callbacks: str) -> bool:
    (tmp_path / "filters").mkdir(exist_ok=True)
    (tmp_path / "filters" / "probe.py").write_text(FILTER)
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_FILTER_PLUGINS": str(tmp_path / "filters"),
        "ANSIBLE_CALLBACKS_ENABLED": callbacks,
        "ANSIBLE_STDOUT_CALLBACK": "json",
        "ANSIBLE_LOCALHOST_WARNING": "False",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
    }
    ansible_playbook = Path(sys.executable).parent / "ansible-playbook"
    proc = subprocess.run(
        [str(ansible_playbook), "-i", "localhost,", str(tmp_path / "play.yml")],
        cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    return {"imported=True": True, "imported=False": False}[result["msg"]]


def test_workers_inherit_the_preloaded_connection_plugin(tmp_path: Path) -> None:
    assert _imported_in_worker(tmp_path, "groot_progress,groot_preload") is True
    # Without it a worker that never connects through docker_api has not imported it: each one that
    # does imports it again.
    assert _imported_in_worker(tmp_path, "groot_progress") is False


def test_the_repository_enables_it() -> None:
    cfg = (REPO / "ansible.cfg").read_text()
    enabled = next(line for line in cfg.splitlines() if line.startswith("callbacks_enabled"))
    assert "groot_preload" in enabled
