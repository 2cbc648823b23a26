#!/usr/bin/python
# Thin adapter: groot_ops.hub.warm_start.prepare_warm_start on the training host.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_warm_start
short_description: Fetch a recipe's warm-start model from the Hub, refusing one trained on other data
description:
  - O(source) is the recipe's C(warm_start_from) - a local checkpoint directory (returned as it is) or
    C({repo_id, revision, accept_other_data}), a model on the Hub.
  - A Hub model is resolved to its commit SHA and downloaded through the Hub client into
    O(root)/<owner>--<name>/<sha> (staged, renamed into place when complete; a second run transfers nothing).
  - Before any download, the source's model card is compared with the recipe's training data
    (O(datasets_provenance), else O(datasets)). Upstream keeps a fine-tuned checkpoint's own normalization
    stats for its embodiment tag, so a source trained on other data fails the task unless
    C(accept_other_data) is true; a source without a groot-ops card is a warning.
  - With O(pending) (C(groot-ops plan) before provision, the task delegated to the controller) the same
    decision is made from the controller with O(datasets) only; nothing under O(root) and no file of the
    training host is read, nothing is downloaded.
  - Needs the C(groot_ops) Python package (with C(huggingface_hub)) where it runs.
version_added: "0.3.0"
author: groot-ops maintainers
options:
  source:
    description: The recipe's C(warm_start_from) (a path string or a mapping); empty means no warm start.
    type: raw
    required: true
  root:
    description: Directory the Hub models are kept in, one sub-directory per repo and commit.
    type: path
    required: true
  datasets_provenance:
    description: The datasets role's record of the recipe (dataset repos, SHAs, fingerprint).
    type: path
  datasets:
    description: The recipe's dataset list, compared by repo when O(datasets_provenance) is not written yet.
    type: list
    elements: dict
    default: []
  pending:
    description:
      - The training host does not exist yet; decide from where the module runs (the controller) and
        report the model as to be fetched. Implies check mode's behaviour (nothing is downloaded).
    type: bool
    default: false
extends_documentation_fragment:
  - groot_hub
attributes:
  check_mode:
    support: full
    description: Resolves the revision and reads the card (into a temporary directory); downloads nothing.
  diff_mode:
    support: full
    description: Shows the model directory before and after.
  idempotent:
    support: full
    description: A model already complete at its SHA transfers nothing and reports C(changed=false).
requirements:
  - groot_ops with huggingface_hub (pip install 'groot-ops[workstation]') on the managed host
"""

EXAMPLES = r"""
- name: Fetch the phase-1 model
  groot_warm_start:
    source: {repo_id: datamentorshf/groot-g1-gripper-fold-towel, revision: main}
    root: /workspace/models/warm-start
    datasets_provenance: /workspace/datasets/provenance/fold-towel-full-phase2.json
  no_log: true

- name: Decide from the controller before provision (plan)
  groot_warm_start:
    source: {repo_id: datamentorshf/groot-g1-gripper-fold-towel, revision: main}
    root: /workspace/models/warm-start
    datasets: [{repo_id: unitreerobotics/G1_Dex1_Fold_Towel}]
    pending: true
  delegate_to: localhost
  check_mode: true
"""

RETURN = r"""
path:
  description: Directory the trainer starts from (C(--base_model_path)); empty when there is no warm start.
  returned: always
  type: str
source:
  description: C({repo_id, revision, sha}) of a Hub source, for the launch record; null otherwise.
  returned: always
  type: dict
decision:
  description: C(none), C(local), C(same) (trained on this data), C(accepted) or C(warn) (no card).
  returned: always
  type: str
message:
  description: One line saying what was decided and why.
  returned: always
  type: str
summary:
  description: >-
    The plan's line, e.g. C(warm start from REPO@REV -> SHA (card matches: ...); would fetch N files, SIZE
    into PATH) (also C(other data acknowledged: ...), C(no card: ...)).
  returned: always
  type: str
warnings:
  description: The message again when the decision needs attention (C(warn), C(accepted)).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.groot_ops_common import (
    call_groot,
    finish,
    groot_module,
    hub_argument_spec,
    hub_kwargs,
)


def main() -> None:
    module = groot_module(
        {
            "source": {"type": "raw", "required": True},
            "root": {"type": "path", "required": True},
            "datasets_provenance": {"type": "path"},
            "datasets": {"type": "list", "elements": "dict", "default": []},
            "pending": {"type": "bool", "default": False},
            **hub_argument_spec(),
        },
    )
    from groot_ops.hub.warm_start import prepare_warm_start

    p = module.params
    result = call_groot(
        module,
        prepare_warm_start,
        p["source"],
        p["root"],
        datasets_provenance=p["datasets_provenance"],
        datasets=p["datasets"],
        check=module.check_mode,
        pending=p["pending"],
        **hub_kwargs(p),
    )
    for line in result.get("warnings") or []:
        module.warn(line)
    finish(module, result)


if __name__ == "__main__":
    main()
