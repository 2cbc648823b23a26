#!/usr/bin/python
# Documentation only: the step runs on the controller as action_plugins/groot_controller_report.py
# (an action plugin, no module process).
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
