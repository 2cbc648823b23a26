#!/usr/bin/python
# Thin adapter over groot_ops.atomic: a JSON report written on the controller in one module call.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_controller_report
short_description: Write a JSON report on the controller (its directory created), in one step
description:
  - Writes O(content) as JSON (sorted keys, indented) to O(path), staged and renamed, creating the
    directory with O(dir_mode) when missing; one module call instead of a C(file) task and a C(copy)
    (which is itself a stat and a copy).
  - A report about the hosts (a preflight verdict), not managed state; it never reports a change.
  - Runs on the controller (C(delegate_to=localhost)); needs the C(groot_ops) package there.
version_added: "0.2.0"
author: groot-ops maintainers
options:
  path:
    description: The report file.
    type: path
    required: true
  content:
    description: What to write (any JSON-able value).
    type: raw
    required: true
  mode:
    description: Octal mode of the file.
    type: str
    default: "0640"
  dir_mode:
    description: Octal mode of the directory when it is created.
    type: str
    default: "0750"
attributes:
  check_mode:
    support: none
    description: A report is written whenever the task runs (the role runs it with C(check_mode=false)).
  diff_mode:
    support: none
  idempotent:
    support: full
    description: Never reports a change.
requirements:
  - groot_ops on the controller
"""

EXAMPLES = r"""
- name: Save the verdict on the controller
  groot_controller_report:
    path: "{{ playbook_dir | dirname }}/.state/preflight/{{ inventory_hostname }}.json"
    content: {ok: true, checks: []}
  delegate_to: localhost
  check_mode: false
"""

RETURN = r"""
path:
  description: The file written.
  returned: always
  type: str
"""

import json
import os

from ansible.module_utils.groot_ops_common import groot_module


def main() -> None:
    module = groot_module(
        {
            "path": {"type": "path", "required": True},
            "content": {"type": "raw", "required": True},
            "mode": {"type": "str", "default": "0640"},
            "dir_mode": {"type": "str", "default": "0750"},
        },
        supports_check_mode=False,
    )
    from groot_ops.atomic import write_text

    p = module.params
    try:
        mode, dir_mode = int(p["mode"], 8), int(p["dir_mode"], 8)
        parent = os.path.dirname(p["path"])
        if not os.path.isdir(parent):
            os.makedirs(parent, exist_ok=True)
            os.chmod(parent, dir_mode)
        write_text(
            p["path"], json.dumps(p["content"], indent=4, sort_keys=True, default=str) + "\n", mode=mode
        )
    except (OSError, ValueError, TypeError) as exc:
        module.fail_json(msg=f"groot_controller_report: cannot write {p['path']}: {exc}")
    module.exit_json(changed=False, path=p["path"])


if __name__ == "__main__":
    main()
