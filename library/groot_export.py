#!/usr/bin/python
# Thin adapter over groot_ops.hub.publish_export (the export and its model card) on the training host.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_export
short_description: Export a GR00T checkpoint as an inference-only directory of hardlinks, with its model card
description:
  - Picks O(checkpoint_dir) when it is a C(checkpoint-N) directory, otherwise C(checkpoint-)O(step) of that
    training output directory, otherwise its newest complete checkpoint.
  - Hardlinks into O(export_dir) exactly what the GR00T policy server loads - C(config.json), every shard
    named in C(model.safetensors.index.json), the index, C(processor_config.json), C(statistics.json),
    C(embodiment_id.json) and C(experiment_cfg/) - and never optimizer, scheduler, RNG, trainer state or
    ZeRO shards. Files are copied only when hardlinks are impossible (another filesystem).
  - Refuses an incomplete checkpoint with a message listing what is missing. The export is staged and
    renamed, so a failure leaves the previous export intact.
  - With O(provenance), writes the model card C(README.md) (YAML front matter) and, with O(loss_curve),
    C(loss_curve.png) into the export. Provenance values that look like local paths, host names or tokens
    are refused.
  - Needs the C(groot_ops) Python package on the managed host.
version_added: "0.1.0"
author: groot-ops maintainers
options:
  source:
    description:
      - Choose the checkpoint as publish does (C(groot_ops.hub.provenance.publish_source)),
        C(checkpoint-)O(source.step) of O(source.output_dir), else its newest servable one; read its launch
        record from O(source.run_dir), and export it to O(source.exports_dir)C(/step-N) with the card made
        from that record. One module run for what publish needs on the training host.
      - In check mode a run with no checkpoint or launch record yet returns C(pending) (why) and exports
        nothing.
      - Exclusive with O(checkpoint_dir).
    type: dict
    suboptions:
      output_dir:
        description: The training output directory.
        type: path
        required: true
      step:
        description: The step to publish; V(0) is the newest servable checkpoint.
        type: int
        default: 0
      run_dir:
        description: The runs directory holding C(RECIPE/launch.json).
        type: path
        required: true
      recipe:
        description: The recipe's name.
        type: str
        required: true
      exports_dir:
        description: Where C(step-N) exports go.
        type: path
        required: true
      isaac_groot_repo:
        description: The Isaac-GR00T repository the card names.
        type: str
        default: NVIDIA/Isaac-GR00T
  checkpoint_dir:
    description: A C(checkpoint-N) directory, or the training output directory holding them (without
      O(source)).
    type: path
  step:
    description:
      - Checkpoint step to export when O(checkpoint_dir) is an output directory (default the newest
        complete one).
    type: int
  export_dir:
    description: Directory of the inference-only export (for example C(exports/RECIPE/step-N)); required with
      O(checkpoint_dir).
    type: path
  provenance:
    description:
      - Model card provenance (recipe, datasets with repo and SHA, isaac_groot repo and commit,
        groot_ops_commit, base_model, embodiment_tag, training_flags, steps, final_loss); see
        C(groot_ops.hub.modelcard).
      - When C(files) is absent, the export's file list is used.
    type: dict
  loss_curve:
    description: PNG of the training loss, copied into the export as C(loss_curve.png) and shown in the card.
    type: path
attributes:
  check_mode:
    support: full
    description: Verifies the checkpoint and reports whether the export or card would change; writes nothing.
  diff_mode:
    support: full
    description: Shows the export's file list and the model card before and after.
  idempotent:
    support: full
    description: The same checkpoint (same inodes and sizes) and provenance report C(changed=false).
requirements:
  - groot_ops (pip install 'groot-ops[workstation]') on the managed host
"""

EXAMPLES = r"""
- name: Export the newest complete checkpoint with its model card
  groot_export:
    checkpoint_dir: /workspace/checkpoints/hospitality-7ds
    export_dir: /workspace/exports/hospitality-7ds/step-20000
    loss_curve: /workspace/runs/hospitality-7ds/loss.png
    provenance:
      recipe: hospitality-7ds
      datasets:
        - name: fold_towel
          repo_id: unitreerobotics/G1_Dex1_FoldTowel_Dataset
          revision: main
          sha: 0123456789abcdef0123456789abcdef01234567
      isaac_groot: {repo: NVIDIA/Isaac-GR00T, commit: 89abcdef0123456789abcdef0123456789abcdef}
      groot_ops_commit: fedcba9876543210fedcba9876543210fedcba98
      base_model: nvidia/GR00T-N1.6-3B
      embodiment_tag: UNITREE_G1
      training_flags: {max_steps: 20000, global_batch_size: 64}
      steps: 20000
      final_loss: 0.031
"""

RETURN = r"""
export_dir:
  description: The export directory.
  returned: always
  type: str
checkpoint:
  description: The checkpoint directory that was exported.
  returned: always
  type: str
step:
  description: Step of that checkpoint.
  returned: always
  type: int
files:
  description: The export's files with their sizes.
  returned: always
  type: list
  elements: dict
bytes:
  description: Total size of the exported files.
  returned: always
  type: int
linked:
  description: Files hardlinked in this run.
  returned: always
  type: int
copied:
  description: Files copied in this run (hardlink impossible).
  returned: always
  type: int
card:
  description: Path of the model card, when O(provenance) was given.
  returned: when provenance is given
  type: str
card_changed:
  description: Whether the model card was (or would be) rewritten.
  returned: always
  type: bool
pending:
  description: With O(source) in check mode, why there is nothing to export yet (null otherwise).
  returned: with source
  type: str
provenance:
  description: With O(source), the card's provenance read from the launch record.
  returned: with source
  type: dict
"""

from ansible.module_utils.groot_ops_common import call_groot, finish, groot_module

_SOURCE = {
    "output_dir": {"type": "path", "required": True},
    "step": {"type": "int", "default": 0},
    "run_dir": {"type": "path", "required": True},
    "recipe": {"type": "str", "required": True},
    "exports_dir": {"type": "path", "required": True},
    "isaac_groot_repo": {"type": "str", "default": "NVIDIA/Isaac-GR00T"},
}


def main() -> None:
    module = groot_module(
        {
            "source": {"type": "dict", "options": _SOURCE},
            "checkpoint_dir": {"type": "path"},
            "step": {"type": "int"},
            "export_dir": {"type": "path"},
            "provenance": {"type": "dict"},
            "loss_curve": {"type": "path"},
        },
        required_one_of=[("source", "checkpoint_dir")],
        mutually_exclusive=[("source", "checkpoint_dir")],
        required_by={"checkpoint_dir": "export_dir"},
    )
    from groot_ops.hub.publish_export import export_from_source, export_with_card

    p = module.params
    if p["source"] is not None:
        result = call_groot(
            module, export_from_source, p["source"], loss_curve=p["loss_curve"], check=module.check_mode
        )
    else:
        result = call_groot(
            module,
            export_with_card,
            p["checkpoint_dir"],
            p["export_dir"],
            provenance=p["provenance"],
            loss_curve=p["loss_curve"],
            step=p["step"],
            check=module.check_mode,
        )
    finish(module, result)


if __name__ == "__main__":
    main()
