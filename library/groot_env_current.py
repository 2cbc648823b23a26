#!/usr/bin/python
# Thin adapter over groot_ops.env_current (module_utils/groot_ops_env_current.py, standard library only).
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_env_current
short_description: Whether the training env is exactly in place already (one check for the env's steps)
description:
  - In one run on the container's system python, checks what the groot_env role's steps would otherwise
    each find in place - the system packages O(system_packages) (C(dpkg-query)), the Isaac-GR00T checkout
    O(checkout_dir) at O(checkout_commit) without changed tracked files, the groot_ops wheel O(wheel_path)
    with O(wheel_sha256) and modes 0755/0644, and the env's own plan for O(install) (no step, checks
    passed for the same key) - and returns C(current) with the reasons when not.
  - Never changes anything; the role runs its steps only when C(current) is false.
  - Does not fetch the checkout's remote; the pinned commit is checked, not whether the tag still names it.
version_added: "0.1.0"
author: groot-ops maintainers
options:
  install:
    description: The options of M(groot_python_env) for this env (its C(checks) excluded).
    type: dict
    required: true
  checks:
    description: What the env's checks consist of, as given to M(groot_python_env).
    type: raw
  system_packages:
    description: Debian packages that must be installed.
    type: list
    elements: str
    default: []
  checkout_dir:
    description: The Isaac-GR00T checkout.
    type: path
    required: true
  checkout_commit:
    description: The 40-hex commit the checkout must be at.
    type: str
    required: true
  wheel_path:
    description: The groot_ops wheel on the host.
    type: path
    required: true
  wheel_sha256:
    description: sha256 of the controller's wheel.
    type: str
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
"""

EXAMPLES = r"""
- name: Is the env in place?
  groot_env_current:
    install: {manager: uv, prefix: /opt/groot-env, project: /workspace/Isaac-GR00T}
    checkout_dir: /workspace/Isaac-GR00T
    checkout_commit: 5dc80c4afd726b34faad1d8f7e007a13b34e4c88
    wheel_path: /opt/groot-ops/wheels/groot_ops-0.1.0-py3-none-any.whl
    wheel_sha256: "{{ wheel.sha256 }}"
  register: env_now
"""

RETURN = r"""
current:
  description: Whether every step of the env would find everything in place.
  returned: always
  type: bool
reasons:
  description: What is not in place, one line each.
  returned: always
  type: list
  elements: str
python:
  description: The env's interpreter.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.groot_ops_env_current import env_current


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "install": {"type": "dict", "required": True},
            "checks": {"type": "raw"},
            "system_packages": {"type": "list", "elements": "str", "default": []},
            "checkout_dir": {"type": "path", "required": True},
            "checkout_commit": {"type": "str", "required": True},
            "wheel_path": {"type": "path", "required": True},
            "wheel_sha256": {"type": "str", "required": True},
        },
        supports_check_mode=True,
    )

    def run(argv):
        return module.run_command(list(argv))

    p = module.params
    try:
        result = env_current(
            p["install"],
            run,
            checks=p["checks"],
            system_packages=p["system_packages"],
            checkout_dir=p["checkout_dir"],
            checkout_commit=p["checkout_commit"],
            wheel_path=p["wheel_path"],
            wheel_sha256=p["wheel_sha256"],
        )
    except Exception as exc:  # ConfigError: groot_ops' own where installed, else its ValueError stand-in
        module.fail_json(msg=f"groot_env_current (env {p['install'].get('prefix')}): {exc}")
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
