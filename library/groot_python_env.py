#!/usr/bin/python
# Thin adapter: the plan and commands live in groot_ops.envsetup (module_utils/groot_ops_envsetup.py).
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_python_env
short_description: The GR00T training Python env (uv venv or conda env) with pinned requirements
description:
  - Creates the env when missing (C(python -m venv) for O(manager=uv), C(conda create) for
    O(manager=conda)), bootstraps uv into a uv env, installs O(requirements), installs local wheel
    files O(packages) only when their sha256 differs from the last install, and links
    O(source_paths) (the Isaac-GR00T checkout) into the env with a C(.pth) file.
  - What was installed is recorded in C(groot-ops-env.json) inside the env; a run whose inputs
    match that record runs no installer and reports C(changed=false).
  - Runs on the container's system python (standard library only).
version_added: "0.1.0"
author: groot-ops
options:
  manager:
    description:
      - C(uv) (a venv, installed with uv; upstream's way) or C(conda) (production's C(unitree_sim_env)).
    type: str
    choices: [uv, conda]
    default: uv
  env:
    description: The venv directory (uv, absolute) or the conda env name.
    type: str
    required: true
  python:
    description: For uv, the interpreter that creates the venv; for conda, the Python version.
    type: str
    default: python3
  conda_exe:
    description: The conda (or mamba) executable.
    type: str
    default: conda
  uv_spec:
    description: pip requirement used to bootstrap uv into the venv.
    type: str
    default: uv
  requirements:
    description: Requirement specifiers, pinned (C(torch==2.13.0)).
    type: list
    elements: str
    default: []
  find_links:
    description: Directories or URLs of local wheels (C(--find-links)).
    type: list
    elements: str
    default: []
  index_url:
    description: Package index URL; default is the installer's.
    type: str
  extra_index_urls:
    description: Extra package index URLs.
    type: list
    elements: str
    default: []
  no_index:
    description: Install only from O(find_links) (offline machines).
    type: bool
    default: false
  packages:
    description: Wheel files on the target, installed without dependencies when their content changes.
    type: list
    elements: path
    default: []
  source_paths:
    description: Directories put on the env's C(sys.path) through a C(.pth) file.
    type: list
    elements: path
    default: []
attributes:
  check_mode:
    support: full
    description: Reports the steps it would run (C(steps)) and runs none.
  diff_mode:
    support: full
    description: The recorded install state before and the desired one after.
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Training env
  groot_python_env:
    manager: uv
    env: /opt/groot-env
    requirements: ["torch==2.13.0"]
    find_links: [/opt/wheels]
    packages: [/opt/groot-ops/wheels/groot_ops-0.1.0-py3-none-any.whl]
    source_paths: [/workspace/Isaac-GR00T]
"""

RETURN = r"""
steps:
  description: Names of the steps run (or, in check mode, that would run).
  type: list
  elements: str
  returned: always
  sample: ["create env", "bootstrap uv", "install requirements", "install packages", "link sources"]
python:
  description: The env's interpreter (null in check mode when the env does not exist yet).
  type: str
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.groot_ops_envsetup import EnvSpec, ensure_env


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "manager": {"type": "str", "choices": ["uv", "conda"], "default": "uv"},
            "env": {"type": "str", "required": True},
            "python": {"type": "str", "default": "python3"},
            "conda_exe": {"type": "str", "default": "conda"},
            "uv_spec": {"type": "str", "default": "uv"},
            "requirements": {"type": "list", "elements": "str", "default": []},
            "find_links": {"type": "list", "elements": "str", "default": []},
            "index_url": {"type": "str"},
            "extra_index_urls": {"type": "list", "elements": "str", "default": []},
            "no_index": {"type": "bool", "default": False},
            "packages": {"type": "list", "elements": "path", "default": []},
            "source_paths": {"type": "list", "elements": "path", "default": []},
        },
        supports_check_mode=True,
    )

    def run(argv):
        rc, out, err = module.run_command(list(argv))
        return rc, out, err

    p = module.params
    try:
        spec = EnvSpec(
            manager=p["manager"],
            env=p["env"],
            python=p["python"],
            conda_exe=p["conda_exe"],
            uv_spec=p["uv_spec"],
            requirements=p["requirements"],
            find_links=p["find_links"],
            index_url=p["index_url"],
            extra_index_urls=p["extra_index_urls"],
            no_index=p["no_index"],
            packages=p["packages"],
            source_paths=p["source_paths"],
        )
        result = ensure_env(spec, run, check=module.check_mode)
    except Exception as exc:  # ConfigError: groot_ops' own where installed, else its ValueError stand-in
        module.fail_json(msg=f"groot_python_env ({p['manager']} env {p['env']}): {exc}")
    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
