#!/usr/bin/python
# Thin adapter over groot_ops.train.shared_dir: is a directory shared by every training node?
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_shared_dir
short_description: Check that every training node sees the same checkpoint directory (multi-node runs)
description:
  - With O(mode=mark) (on the first training node) writes a marker file holding O(token) into O(path).
  - With O(mode=verify) (on every node) reads the marker from O(path) and fails, naming this node, the
    first node and the path, unless it holds O(token). Multi-node Isaac-GR00T n1.6.1 trains under DeepSpeed
    ZeRO-2, where only global rank 0 writes C(trainer_state.json) and rotates checkpoints, so nodes that do
    not share the checkpoint directory cannot resume and fill their disks.
  - The marker is a probe, not managed state; the module never reports a change.
  - Needs the C(groot_ops) Python package on the managed host.
version_added: "0.1.0"
author: groot-ops maintainers
options:
  path:
    description: The checkpoint directory (the recipe's output_dir) as this node sees it.
    type: path
    required: true
  token:
    description: A token fresh for this play, the same on every node.
    type: str
    required: true
  mode:
    description: Write the marker (first node) or verify it (every node).
    type: str
    choices: [mark, verify]
    required: true
  node:
    description: This node's name for messages (the inventory hostname).
    type: str
    default: ""
  first_node:
    description: The first node's name for messages.
    type: str
    default: ""
attributes:
  check_mode:
    support: full
    description: Probes as in a real run when O(path) exists; otherwise says it could not check yet.
  diff_mode:
    support: none
  idempotent:
    support: full
    description: Never reports a change (the marker is a probe).
requirements:
  - groot_ops (pip install 'groot-ops[workstation]') on the managed host
"""

EXAMPLES = r"""
- name: Mark the checkpoint directory on the first node
  groot_shared_dir:
    path: /workspace/checkpoints/lab-demo-2node
    token: "{{ token }}"
    mode: mark
  when: node_rank | int == 0

- name: Verify every node sees it
  groot_shared_dir:
    path: /workspace/checkpoints/lab-demo-2node
    token: "{{ token }}"
    mode: verify
    node: "{{ inventory_hostname }}"
    first_node: "{{ ansible_play_hosts_all[0] }}"
"""

RETURN = r"""
path:
  description: The marker file.
  returned: always
  type: str
shared:
  description: True when this node reads the first node's token (null when not checked in check mode).
  returned: mode=verify
  type: bool
marked:
  description: Whether the marker was written.
  returned: mode=mark
  type: bool
"""

from ansible.module_utils.groot_ops_common import call_groot, finish, groot_module


def main() -> None:
    module = groot_module(
        {
            "path": {"type": "path", "required": True},
            "token": {"type": "str", "required": True, "no_log": False},
            "mode": {"type": "str", "choices": ["mark", "verify"], "required": True},
            "node": {"type": "str", "default": ""},
            "first_node": {"type": "str", "default": ""},
        },
    )
    from groot_ops.train import shared_dir

    p = module.params
    if p["mode"] == "mark":
        finish(module, call_groot(module, shared_dir.mark, p["path"], p["token"], check=module.check_mode))
    result = call_groot(
        module,
        shared_dir.verify,
        p["path"],
        p["token"],
        node=p["node"] or "this node",
        first_node=p["first_node"] or "the first node",
        check=module.check_mode,
    )
    finish(module, result)


if __name__ == "__main__":
    main()
