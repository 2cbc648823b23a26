#!/usr/bin/python
# Thin adapter over groot_ops.hub.provenance.publish_source on the training host: which checkpoint to
# publish, and its provenance read from the run's launch record.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_publish_source
short_description: Choose the checkpoint to publish and read its provenance from the run's launch record
description:
  - Picks C(checkpoint-)O(step) of O(output_dir), or with O(step=0) the newest checkpoint the server can
    load (trainer state, every indexed shard, the processor files).
  - Reads steps and the last logged loss from its C(trainer_state.json), and the dataset SHAs, data and
    stats fingerprints, training flags, base model, embodiment and commits from O(run_dir)/launch.json,
    which the training supervisor wrote when it launched the run. Nothing is taken from the recipe or the
    datasets as they are now, so a branch that moved after training cannot reach the model card.
  - Fails naming the file when the run has no launch record (or it lacks a field). In check mode a run
    with no checkpoint or launch record yet returns C(pending) instead (the training of the same dry run
    would produce them).
  - Needs the C(groot_ops) Python package on the managed host. Read-only.
version_added: "0.2.0"
author: groot-ops maintainers
options:
  output_dir:
    description: Training output directory holding the C(checkpoint-N) directories.
    type: path
    required: true
  step:
    description: Checkpoint step to publish; 0 means the newest servable one.
    type: int
    default: 0
  run_dir:
    description: The recipe's run directory (holding C(launch.json)).
    type: path
    required: true
  recipe:
    description: Recipe name; the launch record must be of this recipe.
    type: str
    required: true
  exports_dir:
    description: Parent of the C(step-N) export directories.
    type: path
    required: true
  isaac_groot_repo:
    description: Public name of the Isaac-GR00T repository, for the card.
    type: str
    default: NVIDIA/Isaac-GR00T
attributes:
  check_mode:
    support: full
    description: Read-only; returns C(pending) where a real run would fail for lack of a checkpoint or record.
  diff_mode:
    support: none
  idempotent:
    support: full
    description: Never changes anything.
requirements:
  - groot_ops (pip install 'groot-ops[workstation]') on the managed host
"""

EXAMPLES = r"""
- name: Choose the checkpoint and its provenance
  groot_publish_source:
    output_dir: /workspace/checkpoints/hospitality-7ds
    run_dir: /workspace/runs/hospitality-7ds
    recipe: hospitality-7ds
    exports_dir: /workspace/exports/hospitality-7ds
  register: source
"""

RETURN = r"""
pending:
  description: In check mode, why there is nothing to publish yet; null otherwise.
  returned: always
  type: str
checkpoint:
  description: The checkpoint directory to publish.
  returned: always
  type: str
step:
  description: Its step.
  returned: unless pending
  type: int
export_dir:
  description: Where its inference-only export goes (O(exports_dir)/step-N).
  returned: unless pending
  type: str
provenance:
  description: The model card's provenance (see C(groot_ops.hub.modelcard)).
  returned: always
  type: dict
"""

from ansible.module_utils.groot_ops_common import call_groot, finish, groot_module


def main() -> None:
    module = groot_module(
        {
            "output_dir": {"type": "path", "required": True},
            "step": {"type": "int", "default": 0},
            "run_dir": {"type": "path", "required": True},
            "recipe": {"type": "str", "required": True},
            "exports_dir": {"type": "path", "required": True},
            "isaac_groot_repo": {"type": "str", "default": "NVIDIA/Isaac-GR00T"},
        },
    )
    from groot_ops.hub.provenance import publish_source

    p = module.params
    result = call_groot(
        module,
        publish_source,
        p["output_dir"],
        run_dir=p["run_dir"],
        recipe=p["recipe"],
        exports_dir=p["exports_dir"],
        step=p["step"] or None,
        isaac_groot_repo=p["isaac_groot_repo"],
        check=module.check_mode,
    )
    finish(module, result)


if __name__ == "__main__":
    main()
