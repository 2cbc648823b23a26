#!/usr/bin/python
# Thin adapter over groot_ops.deploy.host_state, run on the inference host: what the container serves,
# the recorded state, and (with target) the deploy decision. Standard library only on the host.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_server_state
short_description: Read what the groot-server container serves and plan a deploy (read-only)
description:
  - Reads the container with C(docker inspect) - its own C(--model-path /models/<revision>), state,
    restart count, exit code - and the deploy state file O(state_file) (C(deployed.json)).
  - Returns C(status), what C(status) reports (the serving revision from the container, its health,
    whether the state file agrees), and with O(target) the deploy C(plan) computed by
    C(groot_ops.deploy.plan_deploy) - C(action) (start, switch, redeploy), C(restart), C(rollback)
    (the revision to return to when the new one fails, never one when the target already serves) and
    C(records), the state file to write for each outcome.
  - Runs with the host's Python standard library and the docker CLI.
version_added: "0.2.0"
author: groot-ops maintainers
options:
  container_name:
    description: Name of the server container.
    type: str
    default: groot-server
  state_file:
    description: The deploy state file on the host.
    type: path
    required: true
  checkpoint_dir:
    description: Directory of the model revisions on the host (a rollback target must be there).
    type: path
    required: true
  target:
    description:
      - The revision to deploy, C({revision, requested, repo_id}); omit it to only read the state.
    type: dict
  server:
    description:
      - Options of the server command (C(python), C(embodiment_tag), C(port), C(device),
        C(use_sim_policy_wrapper)); the plan then carries C(command) and C(rollback_command).
    type: dict
  files_changed:
    description: The target's files were just repaired (a running server on them is restarted).
    type: bool
    default: false
  docker:
    description: The docker CLI.
    type: str
    default: docker
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
  idempotent:
    support: full
    description: Never changes anything.
requirements:
  - Python 3.10+ standard library and the docker CLI on the host
"""

EXAMPLES = r"""
- name: Plan the deploy of a commit
  groot_server_state:
    state_file: /srv/groot-server/state/deployed.json
    checkpoint_dir: /srv/groot-server/checkpoints
    target: {revision: 0123456789abcdef0123456789abcdef01234567, requested: step-10000, repo_id: org/model}
  register: plan
"""

RETURN = r"""
container:
  description: >-
    Facts of the container (exists, status, running, restarting, restart_count, exit_code, revision).
  returned: always
  type: dict
state:
  description: The state file's content (empty when there is none).
  returned: always
  type: dict
status:
  description: >-
    deployed_revision (from the container), repo_id, requested, container (health phrase),
    recorded_revision, agrees_with_record, note, last_failure.
  returned: always
  type: dict
plan:
  description: >-
    action, revision, serving, recorded, restart, rollback, records (deployed, failed, rolled_back,
    rollback_failed), and with O(server) command and rollback_command.
  returned: when target is given
  type: dict
"""

import datetime

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.groot_ops_deploy import DeployStateError, host_state


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "container_name": {"type": "str", "default": "groot-server"},
            "state_file": {"type": "path", "required": True},
            "checkpoint_dir": {"type": "path", "required": True},
            "target": {"type": "dict"},
            "server": {"type": "dict"},
            "files_changed": {"type": "bool", "default": False},
            "docker": {"type": "str", "default": "docker"},
        },
        supports_check_mode=True,
    )
    p = module.params
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        result = host_state(
            p["container_name"],
            p["state_file"],
            p["checkpoint_dir"],
            target=p["target"],
            server=p["server"],
            files_changed=p["files_changed"],
            now=now,
            docker=p["docker"],
        )
    except DeployStateError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
