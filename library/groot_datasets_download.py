#!/usr/bin/python
# Thin adapter: groot_ops.hub.downloads.download_datasets on the managed host.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_datasets_download
short_description: Download every dataset of a recipe at its pinned revision, reporting progress as it goes
description:
  - Runs M(groot_dataset)'s download for each entry of O(datasets), in order, in one process.
  - Meant to run as an C(async) task with a O(progress_file) that M(groot_progress) polls, so every
    retry (a rate limit being waited out, an unreachable Hub) is shown while the task runs.
  - A dataset that fails does not fail the task; its entry in RV(results) has C(failed=true) and C(msg),
    for the caller to report every failure by name. When the Hub is unreachable, the datasets after the
    failing one are not attempted.
  - Needs the C(groot_ops) Python package (with C(huggingface_hub)) on the managed host.
version_added: "0.2.0"
author: groot-ops maintainers
options:
  datasets:
    description: The datasets, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The dataset's local name (reported with each result).
        type: str
        required: true
      repo_id:
        description: Hub dataset repo, C(namespace/name).
        type: str
        required: true
      aliases:
        description: Other names of the same repo, tried in order when O(datasets[].repo_id) is not found.
        type: list
        elements: str
        default: []
      revision:
        description: Branch, tag or 40-hex commit; the resolved commit SHA is returned.
        type: str
        required: true
      raw_dir:
        description: Directory the files are downloaded into.
        type: path
        required: true
      ego_camera:
        description: Camera whose videos are kept; the other cameras' videos are skipped.
        type: str
      subfolder:
        description:
          - A folder of the repo; only it is fetched (into O(datasets[].raw_dir)/<subfolder>).
            A folder that does not exist at the resolved commit fails that dataset,
            naming repo, revision, commit and folder.
        type: str
      layout:
        description: The recipe's dataset layout (C(lerobot) or C(groot)); not used here, returned in C(item).
        type: str
      src_dir:
        description: Where the dataset lies after the download; not used here, returned in C(item).
        type: path
      groot_dir:
        description: Where the converted dataset goes; not used here, returned in the result's C(item).
        type: path
  job:
    description:
      - A token naming this run of the task in O(progress_file), so that M(groot_progress) never reads the
        lines of an earlier run.
    type: str
    default: ""
extends_documentation_fragment:
  - groot_hub
attributes:
  check_mode:
    support: full
    description: Resolves every revision with read-only API calls and reports what would be fetched.
  diff_mode:
    support: full
    description: Each result carries M(groot_dataset)'s diff of the recorded repo, revision and SHA.
  idempotent:
    support: full
    description: Datasets already at their resolved SHA transfer nothing and report C(changed=false).
requirements:
  - groot_ops with huggingface_hub (pip install 'groot-ops[workstation]') on the managed host
"""

EXAMPLES = r"""
- name: Start the downloads
  groot_datasets_download:
    datasets:
      - {name: fold_towel, repo_id: unitreerobotics/G1_Dex1_Fold_Towel, revision: main,
         raw_dir: /workspace/datasets/raw/fold_towel, ego_camera: cam_left_high}
    endpoint: https://huggingface.co
    progress_file: /workspace/datasets/.progress/downloads.jsonl
    job: "20261124T101500"
  async: 21600
  poll: 0
  register: downloads_job
  no_log: true
"""

RETURN = r"""
in_place:
  description: Whether every dataset is already at its resolved commit with its files (nothing to fetch).
  returned: always
  type: bool
results:
  description:
    - Per dataset, in order - the M(groot_dataset) result (C(repo_id) that resolved, C(revision), C(sha),
      C(files), C(bytes), C(endpoint), C(retries), ...) plus C(item), the entry as given; or C(item),
      C(failed=true), C(msg) and C(retries) when it failed.
  returned: always
  type: list
  elements: dict
msg:
  description: One line - how many datasets are in place (resolved in check mode) and which failed.
  returned: always
  type: str
"""

from ansible.module_utils.groot_ops_common import (
    call_groot,
    finish,
    groot_module,
    hub_argument_spec,
    hub_kwargs,
)

_DATASET = {
    "name": {"type": "str", "required": True},
    "repo_id": {"type": "str", "required": True},
    "aliases": {"type": "list", "elements": "str", "default": []},
    "revision": {"type": "str", "required": True},
    "raw_dir": {"type": "path", "required": True},
    "ego_camera": {"type": "str"},
    "subfolder": {"type": "str"},
    "layout": {"type": "str"},
    "src_dir": {"type": "path"},
    "groot_dir": {"type": "path"},
}


def main() -> None:
    module = groot_module(
        {
            "datasets": {"type": "list", "elements": "dict", "required": True, "options": _DATASET},
            "job": {"type": "str", "default": ""},
            **hub_argument_spec(),
        },
    )
    from groot_ops.hub.downloads import download_datasets

    p = module.params
    result = call_groot(
        module, download_datasets, p["datasets"], check=module.check_mode, job=p["job"], **hub_kwargs(p)
    )
    if not module._diff:
        for entry in result["results"]:
            entry.pop("diff", None)
    finish(module, result)


if __name__ == "__main__":
    main()
