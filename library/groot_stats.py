#!/usr/bin/python
# Thin adapter: the stats themselves are groot_ops.data.stats.compute_stats on the managed host.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_stats
short_description: Compute GR00T normalization stats for a dataset, only when they are stale
description:
  - Writes C(meta/stats.json) and C(meta/relative_stats.json) of a GR00T UNITREE_G1 dataset.
  - Unlike upstream Isaac-GR00T, which reuses any existing stats file, the stats are recorded with the
    fingerprint of the data they came from and recomputed whenever the data changed.
  - Needs the C(groot_ops) Python package on the managed host.
version_added: "0.1.0"
author: groot-ops maintainers
options:
  path:
    description: The dataset directory.
    type: path
    required: true
  force:
    description: Recompute even when the recorded stats are fresh.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reports whether the stats are stale and would be rewritten; writes nothing.
  diff_mode:
    support: full
    description: Shows the recorded stats fingerprint before and after.
  idempotent:
    support: full
    description: Fresh stats are left alone (C(changed=false)) unless O(force=true).
requirements:
  - groot_ops (pip install 'groot-ops[workstation]') on the managed host
"""

EXAMPLES = r"""
- name: Compute stats of the merged dataset when stale
  groot_stats:
    path: /workspace/datasets/groot/hospitality-7ds-merged
"""

RETURN = r"""
fresh_before:
  description: Whether the stats were already fresh for the current data.
  returned: always
  type: bool
fingerprint:
  description: Fingerprint of the data the stats belong to.
  returned: always
  type: str
frames:
  description: Frames the stats were computed over.
  returned: always
  type: int
"""

from ansible.module_utils.groot_ops_common import call_groot, finish, groot_module


def main() -> None:
    module = groot_module(
        {
            "path": {"type": "path", "required": True},
            "force": {"type": "bool", "default": False},
        },
    )
    from groot_ops.data.stats import compute_stats

    result = call_groot(
        module, compute_stats, module.params["path"], check=module.check_mode, force=module.params["force"]
    )
    finish(module, result)


if __name__ == "__main__":
    main()
