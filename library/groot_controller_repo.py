#!/usr/bin/python
# Documentation only: the step runs on the controller as action_plugins/groot_controller_repo.py
# (an action plugin, no module process).
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_controller_repo
short_description: The commit of a checkout on the controller and whether its tracked files changed
description:
  - Reads O(path)'s commit and whether a tracked file differs from it with one
    C(git status --porcelain=v2 --branch --untracked-files=no), for the launch's provenance.
  - Not a git checkout, no git, or no commit yet gives V(null) for both rather than a wrong commit.
  - Runs in the controller's Ansible worker (an action plugin), without a module process or a connection.
version_added: "0.1.0"
author: groot-ops maintainers
options:
  path:
    description: The checkout.
    type: path
    required: true
attributes:
  check_mode:
    support: full
    description: Only reads; the same in check mode.
  diff_mode:
    support: none
    description: Nothing to diff.
  idempotent:
    support: full
    description: Never reports a change.
requirements:
  - git and groot_ops on the controller
"""

EXAMPLES = r"""
- name: This repository's commit and dirtiness
  groot_controller_repo:
    path: "{{ playbook_dir | dirname }}"
  run_once: true
  register: repo
"""

RETURN = r"""
commit:
  description: The checkout's 40-hex commit, null when there is none to read.
  returned: always
  type: str
dirty:
  description: Whether a tracked file differs from the commit, null when there is no commit.
  returned: always
  type: bool
"""
