#!/usr/bin/python
# Thin adapter over groot_ops.hub.upload.publish_folder; the token is no_log end to end.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_hub_upload
short_description: Publish an inference-only export to the Hugging Face Hub and tag the commit
description:
  - Makes O(repo_id) (created if missing, private by default) hold exactly the files of O(folder) in one
    commit, then creates the tag O(tag) (for example C(step-20000)) on that commit.
  - Local file oids (sha256 for LFS files, git blob sha1 otherwise) are compared with the remote tree first;
    identical content means no upload and no commit, so a re-run sends no bytes and reports C(changed=false).
  - Transient Hub errors (429, 5xx, dropped connections) are retried with exponential backoff; a 401 or 403
    fails at once naming the repo. The token is never logged, returned or put in error messages.
  - Fails when O(tag) already points at a different commit (another model was published under that step).
  - Needs the C(groot_ops) Python package (with C(huggingface_hub)) on the managed host.
version_added: "0.1.0"
author: groot-ops maintainers
options:
  folder:
    description: The export directory to publish (see M(groot_export)).
    type: path
    required: true
  repo_id:
    description: Hub model repo, C(namespace/name).
    type: str
    required: true
  token:  # replaces the groot_hub fragment's entry: publishing is never anonymous
    description: Hub token with write access. Take it from Ansible Vault; it is never logged or returned.
    type: str
    required: true
  private:
    description:
      - Visibility when the repo is created. With C(true) an existing public repo is refused (make it
        private on the Hub, or pass C(false) to publish publicly); an existing private repo stays private.
    type: bool
    default: true
  tag:
    description: Tag to create on the published commit.
    type: str
  revision:
    description: Branch to commit to.
    type: str
    default: main
  commit_message:
    description: Commit summary; defaults to C(groot-ops publish TAG).
    type: str
    default: ""
extends_documentation_fragment:
  - groot_hub
attributes:
  check_mode:
    support: full
    description:
      - Compares local and remote content with read-only calls and reports what would be uploaded and
        tagged.
  diff_mode:
    support: full
    description: Shows remote and local file oids.
  idempotent:
    support: full
    description:
      - Identical content and an existing tag on the same commit report C(changed=false) with no request
        that writes.
"""

EXAMPLES = r"""
- name: Publish the export privately and tag it with the step
  groot_hub_upload:
    folder: /workspace/exports/hospitality-7ds/step-20000
    repo_id: datamentors/gr00t-n16-g1-hospitality-7ds
    token: "{{ vault_hf_token }}"
    private: true
    tag: step-20000
  no_log: true
"""

RETURN = r"""
repo_id:
  description: The repo published to.
  returned: always
  type: str
commit:
  description: Commit holding the published files (the existing head when nothing changed).
  returned: always
  type: str
tag:
  description: The tag on that commit.
  returned: always
  type: str
uploaded_files:
  description: Files sent in this run (empty on a re-run).
  returned: always
  type: list
  elements: str
uploaded_bytes:
  description: Bytes of those files.
  returned: always
  type: int
deleted_files:
  description: Remote files removed because the export no longer has them.
  returned: always
  type: list
  elements: str
created:
  description: Whether the repo was (or would be) created.
  returned: always
  type: bool
private:
  description: Visibility of the repo.
  returned: always
  type: bool
url:
  description: URL of the repo.
  returned: always
  type: str
summary:
  description: One line saying what was (or would be) uploaded and tagged, or that the repo is up to date.
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


def main() -> None:
    module = groot_module(
        {
            "folder": {"type": "path", "required": True},
            "repo_id": {"type": "str", "required": True},
            "private": {"type": "bool", "default": True},
            "tag": {"type": "str"},
            "revision": {"type": "str", "default": "main"},
            "commit_message": {"type": "str", "default": ""},
            **hub_argument_spec(token_required=True),
        },
    )
    from groot_ops.hub.upload import publish_folder

    p = module.params
    result = call_groot(
        module,
        publish_folder,
        p["folder"],
        p["repo_id"],
        private=p["private"],
        tag=p["tag"] or None,
        commit_message=p["commit_message"],
        check=module.check_mode,
        revision=p["revision"],
        **hub_kwargs(p),
    )
    result["repo_id"] = p["repo_id"]
    finish(module, result)


if __name__ == "__main__":
    main()
