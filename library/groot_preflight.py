#!/usr/bin/python
# Thin adapter: the checks live in groot_ops.preflight (shipped as module_utils/groot_ops_preflight.py).
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_preflight
short_description: Evaluate the pipeline's hard requirements into one JSON verdict
description:
  - Checks GPUs (the C(groot_gpu) fact of M(groot_gpu_facts), gathered by this module itself when O(gpu)
    is not given, and then returned as that fact) and their compute capability against
    the arch list of the torch build the env will install, the Docker engine version and the NVIDIA
    container runtime (through the engine's unix socket, no docker CLI needed), the NVIDIA container
    toolkit, the host's architecture, that the Hub answers, the ansible-core range, and free disk of
    every workspace filesystem against the recipe's disk budget (datasets + caches + (save_total_limit + 1)
    x checkpoint size + export; paths on one filesystem add up) and of the engine's root for image builds.
  - Returns the verdict C({"ok", "checks", "failed", "summary"}); it fails only when
    O(fail_on_error=true), so that the caller can save the verdict first.
  - Needs only the Python standard library on the host.
version_added: "0.1.0"
author: groot-ops
options:
  gpu:
    description:
      - The C(groot_gpu) fact. Left out, the module runs O(nvidia_smi) itself (one module run instead of
        two) and returns the fact as C(ansible_facts.groot_gpu).
    type: dict
  nvidia_smi:
    description: Name or path of the nvidia-smi executable, when O(gpu) is not given.
    type: str
    default: nvidia-smi
  requirements:
    description:
      - require_gpu (bool), min_gpu_count, min_gpu_memory_mib, min_driver_version, min_cuda_version,
        min_docker_version, ansible_version, ansible_min, ansible_below.
    type: dict
    default: {}
  paths:
    description:
      - Workspace paths by role (datasets, hf_cache, checkpoints, exports).
      - A path that does not exist yet is measured on its nearest existing parent.
    type: dict
    default: {}
  budget:
    description: datasets_bytes, caches_bytes, checkpoint_bytes, save_total_limit, export_bytes.
    type: dict
    default: {}
  check_docker:
    description: Probe the Docker engine (workstation hosts; not inside containers).
    type: bool
    default: true
  docker_host:
    description: Engine socket as C(unix:///path); empty means C(DOCKER_HOST) or the default socket.
    type: str
    default: ""
  docker_root_need_bytes:
    description: Free bytes needed under the engine's root dir (images); 0 skips that check.
    type: int
    default: 0
  margin_ratio:
    description: Extra fraction of each filesystem's need kept free for logs and temp files.
    type: float
    default: 0.1
  expected_architecture:
    description:
      - The architecture the inventory says this host has (C(aarch64) for DGX Spark); empty skips the check.
      - The inference host's decides which upstream Dockerfile builds the server image.
    type: str
    default: ""
  hub_endpoint:
    description: Check that this host reaches the Hub at this endpoint (any HTTP answer); empty skips.
    type: str
    default: ""
  hub_repo:
    description: Repository whose C(/api/models/<repo>) page the Hub check requests (no token is sent).
    type: str
    default: nvidia/GR00T-N1.6-3B
  hub_timeout_s:
    description: Timeout of the Hub check.
    type: float
    default: 10.0
  torch_build:
    description:
      - The torch build the training env will install (C(2.7.1+cu128) for Isaac-GR00T n1.6.1); every GPU's
        compute capability must be in its arch list. Empty skips the check.
    type: str
    default: ""
  check_toolkit:
    description: Check that the NVIDIA container toolkit is installed on the host (hard when a GPU is needed).
    type: bool
    default: false
  check_buildkit:
    description: Check that the docker CLI builds with BuildKit (buildx, or a CLI before 23.0), for the image.
    type: bool
    default: false
  fail_on_error:
    description: Fail the task when a hard check fails (the message carries each fix).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Read-only; evaluates the same checks in check mode.
  diff_mode:
    support: none
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Evaluate preflight
  groot_preflight:
    gpu: "{{ ansible_facts.groot_gpu }}"
    requirements: {require_gpu: true, min_gpu_memory_mib: 40000, min_docker_version: "24.0"}
    paths: {datasets: /workspace/datasets, checkpoints: /workspace/checkpoints}
    budget: {datasets_bytes: 53687091200, checkpoint_bytes: 23622320128, save_total_limit: 2}
  register: verdict
"""

RETURN = r"""
ok:
  description: True when every hard check passed.
  type: bool
  returned: always
checks:
  description: One entry per check with name, ok, severity (hard/soft), observed, required, message, fix.
  type: list
  elements: dict
  returned: always
failed_checks:
  description: Names of the failed hard checks.
  type: list
  elements: str
  returned: always
summary:
  description: One line; for a refusal each failed check with its fix.
  type: str
  returned: always
budget:
  description: The disk budget in bytes per part plus margin and total.
  type: dict
  returned: always
architecture:
  description: The host's architecture (C(uname -m)).
  type: str
  returned: always
ansible_facts:
  description: C(groot_gpu), as M(groot_gpu_facts) returns it, when O(gpu) was not given.
  type: dict
  returned: when O(gpu) is not given
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.groot_ops_gpu import collect
from ansible.module_utils.groot_ops_preflight import (
    disk_budget,
    docker_cli_buildkit,
    docker_engine_info,
    hub_reachable,
    run_preflight,
)

_BUDGET_KEYS = ("datasets_bytes", "caches_bytes", "checkpoint_bytes", "save_total_limit", "export_bytes")


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "gpu": {"type": "dict"},
            "nvidia_smi": {"type": "str", "default": "nvidia-smi"},
            "requirements": {"type": "dict", "default": {}},
            "paths": {"type": "dict", "default": {}},
            "budget": {"type": "dict", "default": {}},
            "check_docker": {"type": "bool", "default": True},
            "docker_host": {"type": "str", "default": ""},
            "docker_root_need_bytes": {"type": "int", "default": 0},
            "margin_ratio": {"type": "float", "default": 0.1},
            "expected_architecture": {"type": "str", "default": ""},
            "hub_endpoint": {"type": "str", "default": ""},
            "hub_repo": {"type": "str", "default": "nvidia/GR00T-N1.6-3B"},
            "hub_timeout_s": {"type": "float", "default": 10.0},
            "torch_build": {"type": "str", "default": ""},
            "check_toolkit": {"type": "bool", "default": False},
            "check_buildkit": {"type": "bool", "default": False},
            "fail_on_error": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    p = module.params
    unknown = sorted(set(p["budget"]) - set(_BUDGET_KEYS))
    if unknown:
        module.fail_json(msg=f"groot_preflight: unknown budget keys {unknown}; allowed {list(_BUDGET_KEYS)}")
    gpu = p["gpu"]
    if gpu is None:
        try:
            gpu = collect(p["nvidia_smi"])
        except Exception as exc:  # InputError: groot_ops' own where installed, else its ValueError stand-in
            module.fail_json(msg=f"groot_preflight: {exc}")
    try:
        budget = disk_budget(
            margin_ratio=p["margin_ratio"], **{k: int(v or 0) for k, v in p["budget"].items()}
        )
        result = run_preflight(
            gpu=gpu,
            requirements=p["requirements"],
            paths={k: str(v) for k, v in p["paths"].items() if v},
            budget=budget,
            engine=docker_engine_info(p["docker_host"]) if p["check_docker"] else None,
            docker_root_need_bytes=p["docker_root_need_bytes"],
            margin_ratio=p["margin_ratio"],
            expected_architecture=p["expected_architecture"],
            hub=(
                hub_reachable(p["hub_endpoint"], repo=p["hub_repo"], timeout=p["hub_timeout_s"])
                if p["hub_endpoint"]
                else None
            ),
            torch_build=p["torch_build"],
            check_toolkit=p["check_toolkit"],
            buildkit=docker_cli_buildkit() if p["check_buildkit"] else None,
        )
    except (ValueError, OSError) as exc:
        module.fail_json(msg=f"groot_preflight: {exc}")
    result["failed_checks"] = result.pop("failed")
    if p["fail_on_error"] and not result["ok"]:
        module.fail_json(msg=f"preflight refused: {result['summary']}", **result)
    facts = {} if p["gpu"] is not None else {"ansible_facts": {"groot_gpu": gpu}}
    module.exit_json(changed=False, **result, **facts)


if __name__ == "__main__":
    main()
