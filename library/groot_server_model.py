#!/usr/bin/python
# Thin adapter over groot_ops.deploy_fetch.ensure_model, run on the inference host itself: the model goes
# from the Hub to the host, the controller only orchestrates. Standard library only on the host.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_server_model
short_description: Fetch a model revision from the Hub onto the inference host and keep it verified
description:
  - Resolves O(revision) (branch, tag or 40-hex commit) to its commit and makes O(root)/<commit> hold
    exactly the files of that commit, each matching the hash the Hub lists for it (sha256 for LFS and
    Xet files, the git blob sha1 otherwise).
  - Missing and damaged files are downloaded again, resuming partial downloads with HTTP Range; files the
    commit does not have are removed. A new revision is assembled under O(root)/.groot_ops/staging and
    renamed into place; a damaged file of an existing revision is replaced by a rename.
  - O(root)/.groot_ops/<commit>.json records the Hub's hashes and the stat of each file when it last
    matched. With O(verify=stat) a file is hashed again only when its size, mtime, ctime or inode changed
    since (any write through the file system changes ctime), so a second run reads no file and, for a
    commit, makes no Hub request. O(verify=full) re-hashes every file.
  - Runs with the host's Python standard library only (no groot_ops, no huggingface_hub on the host).
  - Retries 429 (honouring C(Retry-After)), 5xx, dropped connections and timeouts, with a doubling wait.
    The token is sent only to the Hub's host, never to a redirect target (CDN, Xet bridge).
version_added: "0.2.0"
author: groot-ops maintainers
options:
  repo_id:
    description: Model repository on the Hub (namespace/name).
    type: str
    required: true
  revision:
    description: Branch, tag or 40-hex commit to deploy.
    type: str
    required: true
  root:
    description: Directory on the host holding one sub-directory per deployed commit.
    type: path
    required: true
  verify:
    description: C(stat) re-hashes files whose stat changed since they were verified, C(full) every file.
    type: str
    choices: [stat, full]
    default: stat
  endpoint:
    description: Hub endpoint URL; defaults to C(HF_ENDPOINT) or https://huggingface.co.
    type: str
  token:
    description:
      - Hub token for private repos. Take it from Ansible Vault; it is never logged or returned.
    type: str
  max_retries:
    description: Retries of each Hub request on 429, 5xx and connection errors.
    type: int
    default: 8
  backoff_s:
    description: First wait between retries in seconds; doubled on each retry up to 60 s.
    type: float
    default: 2.0
  timeout_s:
    description: Socket timeout of each Hub request in seconds.
    type: float
    default: 60.0
attributes:
  check_mode:
    support: full
    description: Resolves the revision and verifies the files (read-only); reports what it would download.
  diff_mode:
    support: full
    description: Shows each file's hash, or missing/damaged, before and after.
  idempotent:
    support: full
    description: A verified revision reports C(changed=false) and reads no file again.
requirements:
  - Python 3.10+ standard library on the host
"""

EXAMPLES = r"""
- name: Fetch and verify the model revision on the inference host
  groot_server_model:
    repo_id: datamentorshf/groot-g1-gripper-hospitality-7ds
    revision: step-10000
    root: /srv/groot-server/checkpoints
    token: "{{ vault_hf_token }}"
  no_log: true
"""

RETURN = r"""
commit:
  description: The commit the revision resolved to (the directory name under O(root)).
  returned: success
  type: str
path:
  description: The revision's directory on the host.
  returned: success
  type: str
files:
  description: Number of files in the revision.
  returned: success
  type: int
bytes:
  description: Total size of the revision.
  returned: success
  type: int
downloaded:
  description: Files fetched (or to fetch, in check mode).
  returned: success
  type: list
  elements: str
downloaded_bytes:
  description: Their total size.
  returned: success
  type: int
repaired:
  description: Files of an existing revision that were missing or did not match the Hub's hash.
  returned: success
  type: list
  elements: str
removed:
  description: Files that are not part of the revision and were removed.
  returned: success
  type: list
  elements: str
hashed_bytes:
  description: Bytes read to verify files in this run (0 on a second run with O(verify=stat)).
  returned: success
  type: int
hub_requests:
  description: HTTP requests made to the Hub.
  returned: success
  type: int
retries:
  description: One line per retry (what failed, and the wait).
  returned: success
  type: list
  elements: str
seconds:
  description: Time taken.
  returned: success
  type: float
summary:
  description: One line saying what was checked, fetched, repaired and removed.
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.groot_ops_deploy_fetch import HubClient, HubFetchError, ensure_model


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "repo_id": {"type": "str", "required": True},
            "revision": {"type": "str", "required": True},
            "root": {"type": "path", "required": True},
            "verify": {"type": "str", "choices": ["stat", "full"], "default": "stat"},
            "endpoint": {"type": "str"},
            "token": {"type": "str", "no_log": True},
            "max_retries": {"type": "int", "default": 8},
            "backoff_s": {"type": "float", "default": 2.0},
            "timeout_s": {"type": "float", "default": 60.0},
        },
        supports_check_mode=True,
    )
    p = module.params
    import os

    client = HubClient(
        endpoint=p["endpoint"] or os.environ.get("HF_ENDPOINT", ""),
        token=p["token"] or None,
        timeout_s=p["timeout_s"],
        max_retries=p["max_retries"],
        backoff_s=p["backoff_s"],
    )
    try:
        result = ensure_model(
            p["repo_id"], p["revision"], p["root"], check=module.check_mode, verify=p["verify"], client=client
        )
    except (HubFetchError, OSError) as exc:
        module.fail_json(msg=str(exc), retries=list(client.retries), hub_requests=client.requests)
    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
