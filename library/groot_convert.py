#!/usr/bin/python
# Thin adapter: groot_ops.data.groot_layout.prepare_dataset (conversion or adoption) on the managed host.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_convert
short_description: Convert a raw Unitree G1 LeRobot dataset to the GR00T UNITREE_G1 layout
description:
  - Reads a raw Unitree G1 dataset (LeRobot v2.1 per-episode files or v3.0 concatenated files) and writes
    the per-episode GR00T N1.6 layout (31 state / 23 action, C(observation.images.ego_view)) to O(dest).
  - The output is built in a staging directory and renamed into place, so a failure leaves the previous
    output intact. O(dest)/meta/groot_ops.json records the source fingerprint and options; when they
    match, nothing is rewritten.
  - Needs the C(groot_ops) Python package on the managed host.
version_added: "0.1.0"
author: groot-ops maintainers
options:
  src:
    description: Directory of the raw dataset (as downloaded by M(groot_dataset)).
    type: path
    required: true
  dest:
    description: Output directory of the converted GR00T dataset.
    type: path
    required: true
  ego_camera:
    description:
      - Raw camera that becomes C(observation.images.ego_view).
      - v3.0 names such as C(head_stereo_left) are accepted for their v2.1 equivalents.
    type: str
    default: cam_left_high
  layout:
    description:
      - C(lerobot) converts a raw Unitree dataset. C(groot) adopts a dataset that is already in the GR00T
        layout without conversion (validated against the UNITREE_G1 loader rules first, hard-linked, shipped
        stats left out so that M(groot_stats) recomputes them); O(ego_camera) is then ignored.
    type: str
    choices: [lerobot, groot]
    default: lerobot
  embodiment_tag:
    description:
      - With O(layout=groot), the tag whose loader rules the dataset is checked against; C(UNITREE_G1)
        gets the full UNITREE_G1 schema, another tag only the files every GR00T dataset has.
    type: str
    default: UNITREE_G1
attributes:
  check_mode:
    support: full
    description: Reports whether the output would be (re)written and what it would contain; writes nothing.
  diff_mode:
    support: full
    description: Shows the recorded source fingerprint and options before and after.
  idempotent:
    support: full
    description: A second run with the same source and options reports C(changed=false).
requirements:
  - groot_ops (pip install 'groot-ops[workstation]') on the managed host
notes:
  - Bad input fails with a message naming the file, column and episode.
"""

EXAMPLES = r"""
- name: Convert Fold_Towel with the left head camera as ego view
  groot_convert:
    src: /workspace/datasets/raw/fold_towel
    dest: /workspace/datasets/groot/fold_towel
    ego_camera: cam_left_high
"""

RETURN = r"""
output:
  description: The converted dataset directory.
  returned: always
  type: str
source_version:
  description: LeRobot codebase version of the source (C(v2.1) or C(v3.0)).
  returned: always
  type: str
episodes:
  description: Number of episodes converted.
  returned: always
  type: int
frames:
  description: Number of frames (parquet rows) converted.
  returned: always
  type: int
tasks:
  description: Number of distinct tasks.
  returned: always
  type: int
fingerprint:
  description: Fingerprint of the converted dataset (meta files and parquet content).
  returned: always
  type: str
"""

from ansible.module_utils.groot_ops_common import call_groot, finish, groot_module


def main() -> None:
    module = groot_module(
        {
            "src": {"type": "path", "required": True},
            "dest": {"type": "path", "required": True},
            "ego_camera": {"type": "str", "default": "cam_left_high"},
            "layout": {"type": "str", "choices": ["lerobot", "groot"], "default": "lerobot"},
            "embodiment_tag": {"type": "str", "default": "UNITREE_G1"},
        },
    )
    from groot_ops.data.groot_layout import prepare_dataset

    params = module.params
    result = call_groot(
        module,
        prepare_dataset,
        params["src"],
        params["dest"],
        layout=params["layout"],
        embodiment_tag=params["embodiment_tag"],
        ego_camera=params["ego_camera"],
        check=module.check_mode,
    )
    finish(module, result)


if __name__ == "__main__":
    main()
