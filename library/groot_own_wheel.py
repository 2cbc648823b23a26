#!/usr/bin/python
# Documentation only: the step runs on the controller as action_plugins/groot_own_wheel.py
# (an action plugin, no module process).
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_own_wheel
short_description: The groot_ops wheel of a checkout, rebuilt only when its sources change (controller side)
description:
  - Computes the sha256 digest of the files the wheel is built from (C(pyproject.toml), C(README.md) and
    every file of C(python/groot_ops/) except compiled files) and returns the wheel kept under
    O(cache_dir)/<digest>/; when there is none, builds it with C(pip wheel --no-deps --no-build-isolation)
    and fixed zip timestamps (the same sources give the same bytes) into a staging directory renamed into
    place. Wheels of other digests are removed.
  - Runs on the controller (C(delegate_to=localhost)); needs the C(groot_ops) package there.
version_added: "0.1.0"
author: groot-ops maintainers
options:
  src:
    description: The groot-ops checkout.
    type: path
    required: true
  cache_dir:
    description: Where the wheels are kept, one directory per digest.
    type: path
    required: true
  python:
    description: The interpreter whose pip builds the wheel (the one running Ansible).
    type: str
attributes:
  check_mode:
    support: full
    description:
      - Builds as in a real run when the wheel of the current sources is missing (a controller-side cache,
        needed so that the plan compares the hosts' wheels with the current one).
  diff_mode:
    support: none
  idempotent:
    support: full
    description: Never reports a change; what changes on the hosts is the copied wheel.
requirements:
  - groot_ops (pip install -e .) on the controller
"""

EXAMPLES = r"""
- name: The groot_ops wheel of this checkout
  groot_own_wheel:
    src: "{{ playbook_dir | dirname }}"
    cache_dir: "{{ playbook_dir | dirname }}/.cache/groot-ops-wheel"
    python: "{{ ansible_playbook_python }}"
  delegate_to: localhost
  run_once: true
  register: wheel
"""

RETURN = r"""
path:
  description: The wheel file.
  returned: always
  type: str
  sample: /src/.cache/groot-ops-wheel/3f9a0c1d2e4b5a67/groot_ops-0.1.0-py3-none-any.whl
sha256:
  description: sha256 of the wheel file.
  returned: always
  type: str
digest:
  description: The sources' digest the wheel was built from.
  returned: always
  type: str
built:
  description: Whether this run built the wheel (false when the sources' wheel was already there).
  returned: always
  type: bool
"""
