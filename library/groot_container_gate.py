#!/usr/bin/python
# Documentation only: the step runs on the controller as action_plugins/groot_container_gate.py
# (an action plugin, no module process).
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_container_gate
short_description: Connect to a container host's Docker engine once, and look its container up
description:
  - Runs on the controller (delegated to localhost) at the start of each play on a host reached with
    C(community.docker.docker_api).
  - For an C(ssh://) docker host it keeps one OpenSSH connection to the engine host and forwards the
    engine's socket to a local unix socket (mode 0600, in a 0700 directory); the returned O(docker_host)
    points every later task of the host at it, so that tasks reuse that connection instead of opening a new
    SSH connection and C(docker system dial-stdio) each. A forward that still answers is reused, also across
    runs; an idle one exits after O(persist_s) seconds.
  - Host key checking stays strict, whatever the ssh config says (C(StrictHostKeyChecking=yes),
    C(BatchMode=yes) come first on ssh's command line).
  - Then asks the engine whether O(container) exists and runs.
version_added: "0.1.0"
author: groot-ops maintainers
options:
  container:
    description: Name of the container that the play's host is.
    type: str
    required: true
  docker_host:
    description:
      - The engine as the inventory names it (C(ssh://user@host:port), C(unix://...) or C(tcp://...)).
      - Empty means C(DOCKER_HOST) of the controller, else its local socket.
    type: str
    default: ""
  forward:
    description:
      - Forward an C(ssh://) engine's socket. V(false) looks the container up with C(docker container inspect)
        over ssh and leaves the tasks on C(ssh://) (a new connection per task).
    type: bool
    default: true
  ssh_args:
    description: Extra ssh arguments for the engine host, as one string (its C(ansible_ssh_common_args)).
    type: str
    default: ""
  identity_file:
    description: Private key for the engine host (its C(ansible_ssh_private_key_file)); else ssh's own choice.
    type: path
  socket_dir:
    description: Where the local sockets live. Empty is C(~/.cache/groot-ops/engines).
    type: path
  remote_socket:
    description: The engine's socket on the engine host. Empty is C(/var/run/docker.sock).
    type: str
    default: ""
  persist_s:
    description: Seconds an unused forward stays up.
    type: int
    default: 600
attributes:
  check_mode:
    support: full
    description: >-
      Does the same in check mode: a forward is a connection of the controller, like an SSH control
      master, not managed state, and the lookup only reads.
  diff_mode:
    support: none
    description: Nothing to diff.
  idempotent:
    support: full
    description: Always C(changed=false); a live forward is reused.
requirements:
  - groot_ops and OpenSSH's ssh client on the controller
"""

EXAMPLES = r"""
- name: Look dm-workstation up through one forwarded connection to its engine host
  groot_container_gate:
    container: dm-workstation
    docker_host: ssh://datamentors@192.168.1.205
  delegate_to: localhost
  register: gate

- name: Every later task on the container uses that connection
  ansible.builtin.set_fact:
    ansible_docker_docker_host: "{{ gate.docker_host }}"
"""

RETURN = r"""
exists:
  description: Whether the engine has the container.
  returned: always
  type: bool
running:
  description: Whether the container is running.
  returned: always
  type: bool
status:
  description: The container's state (C(running), C(exited), ...), null when it does not exist.
  returned: always
  type: str
docker_host:
  description: What the container's tasks connect to (C(unix://) of the forward, or O(docker_host) unchanged).
  returned: always
  type: str
source:
  description: O(docker_host) as given (the controller's default when empty).
  returned: always
  type: str
forwarded:
  description: Whether the tasks go through a forward.
  returned: always
  type: bool
reused:
  description: Whether an existing forward answered (no new connection was made).
  returned: always
  type: bool
engine:
  description: C(user@host:port) of an ssh engine, null otherwise.
  returned: always
  type: str
"""
