#!/usr/bin/python
# Thin adapter: the merge itself is groot_ops.data.merge.merge_datasets on the managed host.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_merge
short_description: Merge converted GR00T datasets into one training dataset
description:
  - Merges several datasets in the GR00T UNITREE_G1 layout into O(dest), renumbering C(episode_index),
    C(index) and C(task_index) inside every parquet file so that each episode keeps its own prompt.
  - Videos are hardlinked, not copied. The output is staged and renamed; a failure leaves the previous
    merged dataset intact. Inputs are recorded by fingerprint, so an unchanged merge is not redone.
  - Needs the C(groot_ops) Python package on the managed host.
version_added: "0.1.0"
author: groot-ops maintainers
options:
  inputs:
    description: Converted dataset directories, in the order their episodes are appended.
    type: list
    elements: path
    required: true
  dest:
    description: Output directory of the merged dataset.
    type: path
    required: true
attributes:
  check_mode:
    support: full
    description: Reports whether the merged dataset would be (re)written; writes nothing.
  diff_mode:
    support: full
    description: Shows the recorded input fingerprints before and after.
  idempotent:
    support: full
    description: A second run with unchanged inputs reports C(changed=false).
requirements:
  - groot_ops (pip install 'groot-ops[workstation]') on the managed host
"""

EXAMPLES = r"""
- name: Merge the seven hospitality datasets
  groot_merge:
    inputs:
      - /workspace/datasets/groot/fold_towel
      - /workspace/datasets/groot/wipe_table
    dest: /workspace/datasets/groot/hospitality-7ds-merged
"""

RETURN = r"""
output:
  description: The merged dataset directory.
  returned: always
  type: str
inputs:
  description: The input directories (with their fingerprints when the engine reports them).
  returned: always
  type: list
  elements: raw
episodes:
  description: Episodes in the merged dataset.
  returned: always
  type: int
frames:
  description: Frames in the merged dataset.
  returned: always
  type: int
tasks:
  description: Distinct tasks in the merged dataset.
  returned: always
  type: int
fingerprint:
  description: Fingerprint of the merged dataset.
  returned: always
  type: str
"""

from ansible.module_utils.groot_ops_common import call_groot, finish, groot_module


def main() -> None:
    module = groot_module(
        {
            "inputs": {"type": "list", "elements": "path", "required": True},
            "dest": {"type": "path", "required": True},
        },
    )
    from groot_ops.data.merge import merge_datasets

    inputs = module.params["inputs"]
    if len(inputs) < 2:
        module.fail_json(msg=f"groot_merge needs at least two inputs, got {len(inputs)}: {inputs}")
    duplicates = sorted({p for p in inputs if inputs.count(p) > 1})
    if duplicates:
        module.fail_json(msg=f"groot_merge inputs are listed twice: {', '.join(duplicates)}")
    result = call_groot(module, merge_datasets, inputs, module.params["dest"], check=module.check_mode)
    finish(module, result)


if __name__ == "__main__":
    main()
