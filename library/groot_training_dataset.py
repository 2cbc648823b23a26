#!/usr/bin/python
# Thin adapter: the steps are groot_ops.data.build.build_training_dataset on the managed host.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_training_dataset
short_description: A recipe's training dataset in one step (convert each, merge, stats, validate, provenance)
description:
  - Converts each downloaded dataset of O(datasets) to the GR00T UNITREE_G1 layout (as M(groot_convert)),
    merges them into O(training_dir) when there are several (as M(groot_merge)), computes its
    normalization stats when stale (as M(groot_stats)), validates it against the GR00T loader rules (as
    M(groot_validate)) and records the provenance in O(provenance_file); one module call per recipe
    instead of a task per step and a loop item per dataset (each a round trip to the training host).
  - Every step is idempotent on its own; a changed revision or ego camera redoes only the steps that
    depend on it. C(lines) has one line per dataset and step.
  - A failing step fails the module naming the step and the dataset; the outputs of earlier runs stay.
  - Needs the C(groot_ops) Python package on the managed host.
version_added: "0.2.0"
author: groot-ops maintainers
options:
  datasets:
    description:
      - The recipe's datasets, each with C(name), C(raw_dir), C(groot_dir), and optionally C(src_dir) (the
        dataset inside C(raw_dir) when it is a sub-folder of its repo), C(layout) (C(lerobot) converts,
        C(groot) adopts a dataset already in the GR00T layout) and C(ego_camera) (raw datasets only).
    type: list
    elements: dict
    required: true
  training_dir:
    description: The training dataset (the merged one, or the only dataset's converted directory).
    type: path
    required: true
  recipe:
    description: The recipe's name, recorded in the provenance.
    type: str
    required: true
  provenance_file:
    description: The provenance record (JSON) to keep current.
    type: path
    required: true
  downloads:
    description: The download job's per-dataset results (resolved repo, revision, SHA, files, bytes).
    type: list
    elements: dict
    default: []
  pending:
    description: Check mode, names of datasets whose download would change (nothing to convert yet).
    type: list
    elements: str
    default: []
  validate:
    description: Validate the training dataset against the GR00T loader rules.
    type: bool
    default: true
  embodiment_tag:
    description: The tag whose loader rules an adopted GR00T-layout dataset is checked against.
    type: str
    default: UNITREE_G1
  modality_config:
    description:
      - The recipe's modality config file name (NEW_EMBODIMENT; required for that tag). It is checked against
        the training dataset's C(meta/modality.json) before the stats, its RELATIVE action keys and horizon
        decide C(meta/relative_stats.json), and the dataset is validated against the generic GR00T-layout
        rules plus this config instead of the UNITREE_G1 layout.
    type: str
    default: ""
  modality_config_text:
    description: The file's content (it lives on the controller); without it O(modality_config) is read.
    type: str
attributes:
  check_mode:
    support: full
    description:
      - Reports what each step would do and writes nothing; steps whose inputs would change first are
        reported as pending instead of probed.
  diff_mode:
    support: full
    description: Each changed step's record before and after, and the provenance record.
  idempotent:
    support: full
    description: A second run with the same inputs reports C(changed=false).
requirements:
  - groot_ops (pip install 'groot-ops[workstation]') on the managed host
"""

EXAMPLES = r"""
- name: The training dataset of a recipe
  groot_training_dataset:
    datasets:
      - {name: fold_towel, raw_dir: /ws/datasets/raw/fold_towel, groot_dir: /ws/datasets/groot/fold_towel,
         ego_camera: cam_left_high}
    training_dir: /ws/datasets/groot/fold_towel
    recipe: fold-towel
    provenance_file: /ws/datasets/provenance/fold-towel.json
"""

RETURN = r"""
lines:
  description: One line per dataset and step (converted, up to date, would merge ...).
  returned: always
  type: list
  elements: str
converts:
  description: Each dataset's M(groot_convert) result, null for one whose download is pending (check mode).
  returned: always
  type: list
  elements: dict
merge:
  description: The M(groot_merge) result, null with a single dataset or when pending.
  returned: always
  type: dict
stats:
  description: The M(groot_stats) result, null when pending (check mode).
  returned: always
  type: dict
validation:
  description: The M(groot_validate) result, null when not run.
  returned: always
  type: dict
fingerprint:
  description: The training dataset's fingerprint.
  returned: always
  type: str
stats_fingerprint:
  description: The fingerprint the stats were computed for.
  returned: always
  type: str
provenance:
  description: The provenance record's path.
  returned: always
  type: str
"""

from ansible.module_utils.groot_ops_common import call_groot, finish, groot_module


def main() -> None:
    module = groot_module(
        {
            "datasets": {"type": "list", "elements": "dict", "required": True},
            "training_dir": {"type": "path", "required": True},
            "recipe": {"type": "str", "required": True},
            "provenance_file": {"type": "path", "required": True},
            "downloads": {"type": "list", "elements": "dict", "default": []},
            "pending": {"type": "list", "elements": "str", "default": []},
            "validate": {"type": "bool", "default": True},
            "embodiment_tag": {"type": "str", "default": "UNITREE_G1"},
            "modality_config": {"type": "str", "default": ""},
            "modality_config_text": {"type": "str"},
        },
    )
    from groot_ops.data.build import build_training_dataset

    p = module.params
    result = call_groot(
        module,
        build_training_dataset,
        p["datasets"],
        p["training_dir"],
        recipe=p["recipe"],
        provenance_file=p["provenance_file"],
        downloads=p["downloads"],
        pending=p["pending"],
        validate=p["validate"],
        embodiment_tag=p["embodiment_tag"],
        modality_config=p["modality_config"],
        modality_config_text=p["modality_config_text"],
        check=module.check_mode,
    )
    finish(module, result)


if __name__ == "__main__":
    main()
