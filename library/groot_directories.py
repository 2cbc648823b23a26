#!/usr/bin/python
# Thin adapter over groot_ops.directories (module_utils/groot_ops_directories.py, standard library only).
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_directories
short_description: Several directories in one step, with mode and owner
description:
  - Makes each of O(paths) a directory, creating missing parents with the same O(mode), O(owner) and
    O(group), and sets those on existing directories where they differ, as
    C(ansible.builtin.file state=directory) does for one path; one module call instead of a loop (each
    loop item is a round trip to the host).
  - An existing path that is not a directory is an error naming it.
  - Standard library only, so it runs on hosts without groot_ops (the engine hosts).
version_added: "0.1.0"
author: groot-ops maintainers
options:
  paths:
    description: Absolute directory paths.
    type: list
    elements: path
    required: true
  mode:
    description: Octal mode (C('0755')); left as it is when omitted.
    type: str
  owner:
    description: User name or uid; left as it is when omitted.
    type: str
  group:
    description: Group name or gid; left as it is when omitted.
    type: str
attributes:
  check_mode:
    support: full
    description: Reports what would be created or updated and writes nothing.
  diff_mode:
    support: full
    description: Each path's state, mode, uid and gid before and after.
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: The data root layout
  groot_directories:
    paths: [/workspace/datasets, /workspace/checkpoints, /workspace/logs]
    mode: "0775"
    owner: "0"
    group: "0"
"""

RETURN = r"""
created:
  description: Directories created (or, in check mode, to be created), parents included, in order.
  returned: always
  type: list
  elements: str
updated:
  description: Existing directories whose mode or owner was (or would be) set.
  returned: always
  type: list
  elements: str
paths:
  description: The normalized paths.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.groot_ops_directories import ensure_directories


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "paths": {"type": "list", "elements": "path", "required": True},
            "mode": {"type": "str"},
            "owner": {"type": "str"},
            "group": {"type": "str"},
        },
        supports_check_mode=True,
    )
    p = module.params
    try:
        result = ensure_directories(
            p["paths"], mode=p["mode"], owner=p["owner"], group=p["group"], check=module.check_mode
        )
    except Exception as exc:  # ConfigError (groot_ops' own where installed, else ValueError), OSError
        module.fail_json(msg=f"groot_directories: {exc}")
    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
