#!/usr/bin/python
# Thin adapter: the rules are groot_ops.data.validate.validate_dataset on the managed host.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_validate
short_description: Check a dataset against the Isaac-GR00T n1.6.1 loader rules before any GPU time is spent
description:
  - Validates a GR00T UNITREE_G1 dataset (info.json, episodes, tasks, modality.json, parquet columns and
    dtypes, C(task_index) values, video frame counts, fresh stats) and reports every problem with the file,
    column and episode it concerns.
  - Read-only; never changes anything.
  - Needs the C(groot_ops) Python package on the managed host.
version_added: "0.1.0"
author: groot-ops maintainers
options:
  path:
    description: The dataset directory.
    type: path
    required: true
  fail_on_problems:
    description: Fail the task when problems are found; with V(false) they are only returned.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Runs the same read-only checks in check mode.
  diff_mode:
    support: none
  idempotent:
    support: full
    description: Never changes anything.
requirements:
  - groot_ops (pip install 'groot-ops[workstation]') on the managed host
"""

EXAMPLES = r"""
- name: Validate the training dataset
  groot_validate:
    path: /workspace/datasets/groot/hospitality-7ds-merged
"""

RETURN = r"""
ok:
  description: True when no problem was found.
  returned: always
  type: bool
problems:
  description: Every problem found, each with C(message), C(path), C(column), C(episode).
  returned: always
  type: list
  elements: dict
episodes:
  description: Episodes in the dataset.
  returned: always
  type: int
frames:
  description: Frames in the dataset.
  returned: always
  type: int
"""

from ansible.module_utils.groot_ops_common import call_groot, groot_module

# The task message lists this many problems; all of them are in the result.
_SHOWN_PROBLEMS = 10


def _describe(problem: dict) -> str:
    where = [f"{key} {problem[key]}" for key in ("path", "column", "episode") if problem.get(key) is not None]
    return f"{problem.get('message', '?')}" + (f" ({', '.join(where)})" if where else "")


def main() -> None:
    module = groot_module(
        {
            "path": {"type": "path", "required": True},
            "fail_on_problems": {"type": "bool", "default": True},
        },
    )
    from groot_ops.data.validate import validate_dataset

    path = module.params["path"]
    result = dict(call_groot(module, validate_dataset, path))
    result["changed"] = False
    problems = result.get("problems") or []
    if problems and module.params["fail_on_problems"]:
        lines = [_describe(p) for p in problems[:_SHOWN_PROBLEMS]]
        more = len(problems) - len(lines)
        suffix = f"; and {more} more" if more > 0 else ""
        module.fail_json(msg=f"dataset {path} failed GR00T validation: {'; '.join(lines)}{suffix}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
