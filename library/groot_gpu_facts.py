#!/usr/bin/python
# Thin adapter: the parsing lives in groot_ops.gpu (shipped as module_utils/groot_ops_gpu.py).
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_gpu_facts
short_description: NVIDIA GPU facts (count, model, memory, driver, CUDA) from nvidia-smi
description:
  - Runs C(nvidia-smi --query-gpu=index,name,uuid,memory.total,memory.used,driver_version,compute_cap
    --format=csv,noheader,nounits) and plain C(nvidia-smi) (for the CUDA version of its header) and
    returns the parsed result as the C(groot_gpu) fact.
  - A host without C(nvidia-smi), or where it fails, gets C(present=false) and a C(reason); the module
    itself does not fail, the preflight verdict decides whether a GPU is required.
  - Needs only the Python standard library on the host.
version_added: "0.1.0"
author: groot-ops
options:
  nvidia_smi:
    description: Name or path of the nvidia-smi executable.
    type: str
    default: nvidia-smi
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same queries in check mode.
  diff_mode:
    support: none
  idempotent:
    support: full
  facts:
    support: full
"""

EXAMPLES = r"""
- name: Gather GPU facts
  groot_gpu_facts:

- name: Show the GPU count
  ansible.builtin.debug:
    msg: "{{ ansible_facts.groot_gpu.count }} x {{ ansible_facts.groot_gpu.models }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts added to the host.
  returned: always
  type: dict
  contains:
    groot_gpu:
      description: >-
        present, count, models, min_memory_mib, total_memory_mib, driver_version, cuda_version,
        reason (why no GPU was found, else null) and gpus (one dict per GPU with index, name, uuid,
        memory_total_mib, memory_used_mib, driver_version, compute_cap).
      type: dict
      returned: always
      sample:
        present: true
        count: 1
        models: ["NVIDIA H100 80GB HBM3"]
        min_memory_mib: 81559
        driver_version: "580.159.04"
        cuda_version: "13.0"
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.groot_ops_gpu import collect


def main() -> None:
    module = AnsibleModule(
        argument_spec={"nvidia_smi": {"type": "str", "default": "nvidia-smi"}}, supports_check_mode=True
    )
    try:
        facts = collect(module.params["nvidia_smi"])
    except Exception as exc:  # InputError: groot_ops' own where installed, else its ValueError stand-in
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, ansible_facts={"groot_gpu": facts})


if __name__ == "__main__":
    main()
