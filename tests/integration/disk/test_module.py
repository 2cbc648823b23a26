"""The groot_disk_guard module run by ansible on localhost: report, check mode, diff, failures.

One check-mode run keeps this cheap; deletion and idempotence are covered by the cleanup.yml test.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.ansible_helpers import run_playbook, write_local_inventory
from tests.unit.disk.builders import write_file

PLAY = """
- name: Module under test
  hosts: trainers
  gather_facts: false
  tasks:
    - name: Report
      groot_disk_guard:
        state: report
        config: "{{ cfg }}"
      register: report
    - name: Clean
      groot_disk_guard:
        target: all
        config: "{{ cfg }}"
      register: clean
    - name: Short
      groot_disk_guard:
        config: "{{ cfg }}"
        need_bytes: 1000000000000000000
        fail_when_short: true
      register: short
      ignore_errors: true
    - name: Bad config
      groot_disk_guard:
        config: "{{ cfg | combine({'act_below_precent': 5}) }}"
      register: bad
      ignore_errors: true
    - name: Config entry point of the role
      ansible.builtin.include_role:
        name: disk_guard
        tasks_from: config
      vars:
        disk_guard_workspace: /ws
    - name: Config built
      ansible.builtin.assert:
        that:
          - disk_guard_config.watch_path == '/ws/checkpoints'
          - disk_guard_config.runs_root == '/ws/runs'
          - disk_guard_config.target == 'watermark'
          - disk_guard_config.docker_prune is false
          - disk_guard_config.steps is none
"""


def _results(stdout: str) -> dict[str, dict]:
    out = json.loads(stdout)
    return {task["task"]["name"]: task["hosts"]["t"] for play in out["plays"] for task in play["tasks"]}


def test_module_report_check_clean_and_failures(tmp_path: Path) -> None:
    wheel = write_file(tmp_path / "pip" / "wheel", 200_000)
    cfg = {"watch_path": str(tmp_path), "pip_cache_dirs": [str(tmp_path / "pip")], "act_below_percent": 0,
           "stop_at_percent": 0}  # fmt: skip
    (tmp_path / "play.yml").write_text(PLAY)
    write_local_inventory(tmp_path / "hosts.yml", {"trainers": ["t"]})
    env = {"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"}

    checked = run_playbook(
        tmp_path / "play.yml", inventory=tmp_path / "hosts.yml", extra_vars={"cfg": cfg}, check=True,
        diff=True, env=env,
    )  # fmt: skip
    assert checked.rc == 0, checked.describe()
    res = _results(checked.stdout)
    assert res["Report"]["changed"] is False and res["Report"]["reclaimable_bytes"] >= 200_000
    assert res["Clean"]["changed"] is True and res["Clean"]["freed_bytes"] >= 200_000
    assert str(wheel) in res["Clean"]["diff"]["before"]
    assert wheel.exists(), "check mode deleted"

    assert res["Short"]["failed"] is True and str(tmp_path) in res["Short"]["msg"]
    assert res["Bad config"]["failed"] is True and "act_below_precent" in res["Bad config"]["msg"]
    assert not res["Config built"].get("failed"), res["Config built"]
