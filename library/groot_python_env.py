#!/usr/bin/python
# Thin adapter: the plan and commands live in groot_ops.envsetup (module_utils/groot_ops_envsetup.py).
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_python_env
short_description: The GR00T training Python env, with Isaac-GR00T installed the upstream way
description:
  - Creates the env when missing (C(python -m venv) for O(manager=uv), C(conda create --prefix) with
    Python O(python_version) for O(manager=conda)), bootstraps uv into it, then runs one
    C(uv pip install --python <env python> -e <project>) together with the local wheels O(packages)
    (groot_ops), so that the checkout's own C([tool.uv.sources]) decide where torch, torchvision and
    flash-attn come from, exactly as upstream's install does.
  - A conda env whose Python is not O(python_version) is removed and recreated (flash-attn wheels exist
    for cp310 and cp312 only).
  - What was installed is recorded in C(groot-ops-env.json) inside the env (checkout path and commit,
    hashes of its C(pyproject.toml)/C(uv.lock) and of the wheels, the index options); a run whose inputs
    match that record runs no installer and reports C(changed=false).
  - While O(run_marker) names a live training run, any change is refused unless O(force=true).
  - Runs on the container's system python (standard library only).
version_added: "0.1.0"
author: groot-ops
options:
  manager:
    description:
      - C(uv) (a venv) or C(conda) (production's C(unitree_sim_env)). Both install with uv.
    type: str
    choices: [uv, conda]
    default: uv
  prefix:
    description:
      - The env's directory (absolute), also for conda; its C(bin/python) is the interpreter later roles use.
    type: path
    required: true
  python:
    description: For uv, the interpreter that creates the venv (unused for conda).
    type: str
    default: python3
  python_version:
    description:
      - Required C(major.minor) of the env's Python. Default for conda C(3.10); for uv any (the creating
        interpreter's), a mismatch is an error.
    type: str
  conda_exe:
    description: The conda (or mamba) executable.
    type: str
    default: conda
  uv_spec:
    description: pip requirement used to bootstrap uv into the env.
    type: str
    default: uv
  project:
    description: The Isaac-GR00T checkout, installed editable (C(-e)).
    type: path
    required: true
  project_commit:
    description: The checkout's HEAD, recorded so that another commit reinstalls.
    type: str
    default: ""
  packages:
    description:
      - Wheel files on the target, with optional extras (C(/w/groot_ops-0.1.0-py3-none-any.whl[workstation])),
        resolved together with the checkout and reinstalled when their content changes.
    type: list
    elements: str
    default: []
  requirements:
    description: Further requirement specifiers (a local flash-attn wheel as C(flash-attn @ file:///...)).
    type: list
    elements: str
    default: []
  no_sources_packages:
    description: Packages whose C([tool.uv.sources]) entry is ignored (C(--no-sources-package)).
    type: list
    elements: str
    default: []
  find_links:
    description: Directories or URLs of local wheels (C(--find-links)).
    type: list
    elements: str
    default: []
  index_url:
    description: The default package index (a PyPI mirror); empty is PyPI.
    type: str
  extra_index_urls:
    description: Extra package indexes (C(--index)).
    type: list
    elements: str
    default: []
  no_index:
    description: No package index at all (also disables the indexes the checkout's sources name).
    type: bool
    default: false
  offline:
    description: No network (C(--offline)); sources that name local indexes and O(find_links) still apply.
    type: bool
    default: false
  no_sources:
    description: Ignore the checkout's C([tool.uv.sources]) entirely (mirrors that host every pin).
    type: bool
    default: false
  run_marker:
    description: The training run marker (C(runs/active.json)); a live run blocks changes.
    type: path
    default: ""
  force:
    description: Change the env even under a live training run (breaks the run).
    type: bool
    default: false
  checks:
    description:
      - What the caller's checks of the env consist of (modules imported, commands run); part of the key
        in C(verification), so that other checks run again.
    type: raw
attributes:
  check_mode:
    support: full
    description:
      - Reports the steps and exact commands it would run and runs none; for an existing env with uv the
        installer's own C(--dry-run) lists the packages that would change (C(would_change_packages)).
  diff_mode:
    support: full
    description: The recorded install state before and the desired one after.
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Training env (production's conda env, adopted)
  groot_python_env:
    manager: conda
    prefix: /opt/conda/envs/unitree_sim_env
    conda_exe: /opt/conda/bin/conda
    project: /workspace/Isaac-GR00T
    project_commit: 5dc80c4afd726b34faad1d8f7e007a13b34e4c88
    packages: [/opt/groot-ops/wheels/groot_ops-0.1.0-py3-none-any.whl[workstation]]
    run_marker: /workspace/runs/active.json
"""

RETURN = r"""
steps:
  description: Names of the steps run (or, in check mode, that would run).
  type: list
  elements: str
  returned: always
  sample: ["create env", "bootstrap uv", "install"]
commands:
  description: Each step with why it runs and its exact argv.
  type: list
  elements: dict
  returned: always
python:
  description: The env's interpreter (C(<prefix>/bin/python)).
  type: str
  returned: always
exists:
  description: Whether the env existed before this run.
  type: bool
  returned: always
python_version_before:
  description: The existing env's Python C(major.minor), null when there was none.
  type: str
  returned: always
would_change_packages:
  description: Check mode, existing env with uv, the installer's dry run (C(+ torch==2.7.1+cu128)).
  type: list
  elements: str
  returned: when check mode plans an install into an existing env
summary:
  description: One line for the plan, the env and each step with its reason.
  type: str
  returned: always
verification:
  description:
    - Whether the env's checks must run (C(needed)), that is unless they last passed for the same C(key)
      made of the install record's inputs (checkout commit and packaging files, the wheels' hashes, the index
      options), the package set installed in the env and O(checks). C(file) is where the caller writes
      C(record) once they passed (C(groot-ops-env-verified.json) in the env).
  type: dict
  returned: always
  sample: {"needed": false, "key": "9f2c...", "file": "/opt/groot-env/groot-ops-env-verified.json"}
refused:
  description: Check mode only, why a real run would refuse (a live training run).
  type: str
  returned: when refused
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.groot_ops_envsetup import EnvSpec, ensure_env

_SPEC_KEYS = (
    "manager", "prefix", "python", "python_version", "conda_exe", "uv_spec", "project", "project_commit",
    "packages", "requirements", "no_sources_packages", "find_links", "index_url", "extra_index_urls",
    "no_index", "offline", "no_sources", "run_marker", "force",
)  # fmt: skip


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "manager": {"type": "str", "choices": ["uv", "conda"], "default": "uv"},
            "prefix": {"type": "path", "required": True},
            "python": {"type": "str", "default": "python3"},
            "python_version": {"type": "str"},
            "conda_exe": {"type": "str", "default": "conda"},
            "uv_spec": {"type": "str", "default": "uv"},
            "project": {"type": "path", "required": True},
            "project_commit": {"type": "str", "default": ""},
            "packages": {"type": "list", "elements": "str", "default": []},
            "requirements": {"type": "list", "elements": "str", "default": []},
            "no_sources_packages": {"type": "list", "elements": "str", "default": []},
            "find_links": {"type": "list", "elements": "str", "default": []},
            "index_url": {"type": "str"},
            "extra_index_urls": {"type": "list", "elements": "str", "default": []},
            "no_index": {"type": "bool", "default": False},
            "offline": {"type": "bool", "default": False},
            "no_sources": {"type": "bool", "default": False},
            "run_marker": {"type": "path", "default": ""},
            "force": {"type": "bool", "default": False},
            "checks": {"type": "raw"},
        },
        supports_check_mode=True,
    )

    def run(argv):
        rc, out, err = module.run_command(list(argv))
        return rc, out, err

    p = module.params
    try:
        spec = EnvSpec(**{key: p[key] for key in _SPEC_KEYS})
        result = ensure_env(spec, run, check=module.check_mode, checks=p["checks"])
    except Exception as exc:  # ConfigError: groot_ops' own where installed, else its ValueError stand-in
        module.fail_json(msg=f"groot_python_env ({p['manager']} env {p['prefix']}): {exc}")
    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
