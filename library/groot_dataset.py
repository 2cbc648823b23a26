#!/usr/bin/python
# Thin adapter: the download itself is groot_ops.hub.download.download_dataset on the managed host.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_dataset
short_description: Download a Hugging Face Hub dataset at a pinned revision and record its commit SHA
description:
  - Resolves O(revision) (branch, tag or commit) of O(repo_id) to a commit SHA with the Hub API, then
    downloads that exact commit into O(local_dir) with C(huggingface_hub.snapshot_download).
  - When O(repo_id) does not exist, each of O(aliases) is tried in order (datasets that were renamed on
    the Hub keep working from old recipes); the name that resolved is returned.
  - With O(ego_camera), only C(meta/), C(data/) and that camera's videos are fetched (LeRobot v2.1
    C(videos/chunk-*/observation.images.CAM/) and v3.0 C(videos/observation.images.CAM/) layouts).
  - What was fetched is recorded in O(local_dir)/.groot_ops_download.json; a re-run whose revision
    still resolves to the same SHA transfers no file and reports C(changed=false).
  - Transient Hub errors (429, 5xx, dropped connections) are retried within O(retry_budget_s), waiting
    what the Hub asks (C(Retry-After)); an unreachable endpoint fails after O(unreachable_budget_s) naming
    it. Partially downloaded files are resumed by the client.
  - Needs the C(groot_ops) Python package (with C(huggingface_hub)) on the managed host.
version_added: "0.1.0"
author: groot-ops maintainers
options:
  repo_id:
    description: Hub dataset repo, C(namespace/name).
    type: str
    required: true
  aliases:
    description: Other names of the same repo (old or renamed), tried in order when O(repo_id) is not found.
    type: list
    elements: str
    default: []
  revision:
    description: Branch, tag or 40-hex commit to download; the resolved commit SHA is returned.
    type: str
    required: true
  local_dir:
    description: Directory the files are downloaded into.
    type: path
    required: true
  ego_camera:
    description: Camera to keep (for example C(cam_left_high)); all other cameras' videos are skipped.
    type: str
  repo_type:
    description: Hub repo type.
    type: str
    choices: [dataset, model]
    default: dataset
extends_documentation_fragment:
  - groot_hub
attributes:
  check_mode:
    support: full
    description:
      - Resolves the SHA with read-only API calls and reports the file count and bytes that would be
        fetched.
  diff_mode:
    support: full
    description: Shows the recorded repo, revision, SHA and patterns before and after.
  idempotent:
    support: full
    description:
      - A re-run with the same pin and all files present reports C(changed=false) and transfers no file.
notes:
  - Set C(HF_HOME) through the task's C(environment) to keep the Hub cache on the data disk.
"""

EXAMPLES = r"""
- name: Download Fold_Towel at a pinned commit, left head camera only
  groot_dataset:
    repo_id: unitreerobotics/G1_Dex1_FoldTowel_Dataset
    aliases: [unitreerobotics/G1_Fold_Towel]
    revision: 5c1e5c1e5c1e5c1e5c1e5c1e5c1e5c1e5c1e5c1e
    local_dir: /workspace/datasets/raw/fold_towel
    ego_camera: cam_left_high
    token: "{{ vault_hf_token }}"
  environment:
    HF_HOME: /workspace/hf-cache
  no_log: true
"""

RETURN = r"""
repo_id:
  description: The repo name that resolved (O(repo_id) or one of O(aliases)).
  returned: always
  type: str
requested_repo_id:
  description: The O(repo_id) asked for.
  returned: always
  type: str
revision:
  description: The revision asked for.
  returned: always
  type: str
sha:
  description: Commit SHA the revision resolved to; record it for provenance.
  returned: always
  type: str
  sample: 0123456789abcdef0123456789abcdef01234567
local_dir:
  description: Where the files are.
  returned: always
  type: str
files:
  description: Number of files at the pinned commit that match the camera selection.
  returned: always
  type: int
bytes:
  description: Total size of those files.
  returned: always
  type: int
removed:
  description:
    - Files of an earlier download that the new commit no longer has (deleted; only listed in check mode).
  returned: always
  type: list
  elements: str
patterns:
  description: The allow patterns used (null when every file is fetched).
  returned: always
  type: list
  elements: str
endpoint:
  description: The Hub endpoint every call went to.
  returned: always
  type: str
retries:
  description:
    - One line per retry the download waited through (also returned when it failed), each naming the
      endpoint, the call, the error and the wait.
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
            "repo_id": {"type": "str", "required": True},
            "aliases": {"type": "list", "elements": "str", "default": []},
            "revision": {"type": "str", "required": True},
            "local_dir": {"type": "path", "required": True},
            "ego_camera": {"type": "str"},
            "repo_type": {"type": "str", "choices": ["dataset", "model"], "default": "dataset"},
            **hub_argument_spec(),
        },
    )
    from groot_ops.hub.download import download_dataset

    p = module.params
    result = call_groot(
        module,
        download_dataset,
        p["repo_id"],
        p["revision"],
        p["local_dir"],
        aliases=p["aliases"],
        repo_type=p["repo_type"],
        ego_camera=p["ego_camera"] or None,
        check=module.check_mode,
        **hub_kwargs(p),
    )
    finish(module, result)


if __name__ == "__main__":
    main()
