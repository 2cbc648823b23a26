#!/usr/bin/python
# Thin adapter over groot_ops.hub.export and groot_ops.hub.modelcard on the training host.
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
  checkpoint_dir:
    description: A C(checkpoint-N) directory, or the training output directory holding them.
    type: path
    required: true
  step:
    description:
      - Checkpoint step to export when O(checkpoint_dir) is an output directory (default the newest
        complete one).
    type: int
  export_dir:
    description: Directory of the inference-only export (for example C(exports/RECIPE/step-N)).
    type: path
    required: true
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
"""

from ansible.module_utils.groot_ops_common import call_groot, finish, groot_module


def main() -> None:
    module = groot_module(
        {
            "checkpoint_dir": {"type": "path", "required": True},
            "step": {"type": "int"},
            "export_dir": {"type": "path", "required": True},
            "provenance": {"type": "dict"},
            "loss_curve": {"type": "path"},
        },
    )
    from groot_ops.hub.export import export_inference_model
    from groot_ops.hub.modelcard import render_model_card, write_model_card

    p = module.params
    result = call_groot(
        module,
        export_inference_model,
        p["checkpoint_dir"],
        p["export_dir"],
        check=module.check_mode,
        step=p["step"],
    )
    result["card_changed"] = False
    if p["provenance"] is not None:
        provenance = dict(p["provenance"])
        provenance.setdefault("files", result["files"])
        if module.check_mode and result["changed"]:
            # The export does not exist yet in check mode: validate and render without writing.
            card = call_groot(module, render_model_card, provenance)
            card_result = {
                "changed": True,
                "card": f"{p['export_dir']}/README.md",
                "diff": {"before": "", "after": card},
            }
        else:
            card_result = call_groot(
                module,
                write_model_card,
                p["export_dir"],
                provenance,
                loss_curve=p["loss_curve"],
                check=module.check_mode,
            )
        result["card"] = card_result["card"]
        result["card_changed"] = card_result["changed"]
        result["changed"] = result["changed"] or card_result["changed"]
        result["diff"] = [
            {"before_header": "export files", "after_header": "export files", **result["diff"]},
            {"before_header": "README.md", "after_header": "README.md", **card_result["diff"]},
        ]
    finish(module, result)


if __name__ == "__main__":
    main()
