#!/usr/bin/python
# Thin adapter over groot_ops.deploy_watch, run on the inference host next to the engine: a crashing
# server is seen the moment it exits, not after the probe's start-up timeout.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_server_watch
short_description: Wait for the GR00T policy server container to be ready; fail at once when it crashes
description:
  - Polls C(docker inspect) and C(docker logs) of the container. Succeeds when the log since the
    container's start holds O(ready_pattern) (the upstream server prints it once it listens). Fails at
    once when the container exits, is restarting, or restarted beyond O(restart_count), and when
    O(timeout_s) passes without the ready line. A failure carries the container's state and its last
    O(log_lines) log lines (both streams, in time order) in C(logs).
  - With O(expect_start=false) (the deploy did not start it), a container that has been running for
    O(timeout_s) without a restart also counts as ready.
  - With O(wait=false) it only reports the state and the last log lines, and never fails (for failure
    messages).
  - Runs with the host's Python standard library and the docker CLI.
version_added: "0.2.0"
author: groot-ops maintainers
options:
  name:
    description: Name of the server container.
    type: str
    default: groot-server
  expect_start:
    description: The deploy just (re)created or restarted the container.
    type: bool
    default: true
  timeout_s:
    description: How long the model may take to load, in seconds.
    type: float
    default: 600.0
  ready_pattern:
    description: Text the server prints once it is ready (upstream C(PolicyServer.run)).
    type: str
    default: Server is ready and listening
  restart_count:
    description: >-
      The container's restart count when it was started; a higher one is a crash. Default the first look.
    type: int
  log_lines:
    description: How many of the last log lines to return.
    type: int
    default: 20
  wait:
    description: Wait for readiness (true) or only report the state and last log lines (false).
    type: bool
    default: true
  docker:
    description: The docker CLI.
    type: str
    default: docker
attributes:
  check_mode:
    support: full
    description: Reports that it would wait; with O(wait=false) reads the state and logs (read-only).
  diff_mode:
    support: none
  idempotent:
    support: full
    description: Never changes anything.
requirements:
  - Python 3.10+ standard library and the docker CLI on the host
"""

EXAMPLES = r"""
- name: Wait for the server, failing as soon as it crashes
  groot_server_watch:
    name: groot-server
    timeout_s: 600

- name: The server's last log lines for a failure message
  groot_server_watch:
    name: groot-server
    wait: false
  register: server_logs
"""

RETURN = r"""
ready:
  description: Whether the server is ready.
  returned: always
  type: bool
reason:
  description: Why it counts as ready, or why not (exited with code N, crash-looping, not ready after N s).
  returned: always
  type: str
seconds:
  description: Time spent waiting.
  returned: when wait
  type: float
container:
  description: State of the container (status, running, restarting, restart_count, exit_code, oom_killed).
  returned: always
  type: dict
logs:
  description: The container's last log lines.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.groot_ops_deploy_watch import (
    DeployStateError,
    ServerNotReady,
    last_logs,
    watch_server,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "default": "groot-server"},
            "expect_start": {"type": "bool", "default": True},
            "timeout_s": {"type": "float", "default": 600.0},
            "ready_pattern": {"type": "str", "default": "Server is ready and listening"},
            "restart_count": {"type": "int"},
            "log_lines": {"type": "int", "default": 20},
            "wait": {"type": "bool", "default": True},
            "docker": {"type": "str", "default": "docker"},
        },
        supports_check_mode=True,
    )
    p = module.params
    try:
        if not p["wait"]:
            module.exit_json(
                changed=False, **last_logs(p["name"], log_lines=p["log_lines"], docker=p["docker"])
            )
        if module.check_mode:
            module.exit_json(
                changed=False, ready=True, reason="check mode: would wait", container={}, logs=[]
            )
        result = watch_server(
            p["name"],
            expect_start=p["expect_start"],
            timeout_s=p["timeout_s"],
            ready_pattern=p["ready_pattern"],
            restart_count=p["restart_count"],
            log_lines=p["log_lines"],
            docker=p["docker"],
        )
    except ServerNotReady as exc:
        module.fail_json(msg=str(exc), changed=False, **exc.result)
    except DeployStateError as exc:
        module.fail_json(msg=str(exc), changed=False)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
