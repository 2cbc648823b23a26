#!/usr/bin/python
# Documentation only: the step runs on the controller as action_plugins/groot_server_probe.py
# (no module process); the probe itself is groot_ops.probe.probe_server, which the CLI and the tests use too.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_server_probe
short_description: Health-check a GR00T N1.6 policy server over ZeroMQ
description:
  - Speaks the protocol of Isaac-GR00T n1.6.1's C(gr00t/eval/run_gr00t_server.py) (msgpack, numpy arrays
    and ModalityConfigs in upstream's encodings).
  - Sends C(ping) (retried while nothing answers, until O(startup_timeout_s), while the model loads), then
    C(get_modality_config), then a canned all-zero C(get_action) in the layout the server was started
    with (O(sim_policy_wrapper)) whose reply must hold every action group as float32 (1, horizon, width),
    then C(reset).
  - For C(unitree_g1) the ModalityConfigs must name the UNITREE_G1 groups in model order and a 30-step
    horizon, widths from the layout. For any other embodiment (C(new_embodiment)) the observation is built
    from the served ModalityConfigs (keys, delta indices, language key) with each group's width from the
    served model's C(statistics.json) (O(statistics)).
  - Every request uses a fresh REQ socket with a poll deadline of O(request_timeout_s), so a silent server
    cannot hang the play (the upstream client never applies its receive timeout).
  - Fails, naming the endpoint, the stage and what the server answered, when any stage does not pass;
    a refused observation layout comes with a hint naming the server flag.
  - Runs on the controller, in Ansible's worker (an action plugin), so the server's port must be reachable
    from there, whatever the task's host.
version_added: "0.1.0"
author: groot-ops maintainers
options:
  host:
    description: Host name or address of the server.
    type: str
    required: true
  port:
    description: Published port of the server.
    type: int
    default: 5555
  embodiment:
    description: Embodiment tag the server runs (enum value, e.g. C(unitree_g1), C(new_embodiment)).
    type: str
    default: unitree_g1
  statistics:
    description:
      - "The served model's C(statistics.json): per tag, C(state) and C(action) groups, each with
        C(min), C(max), ... lists as wide as the group. Required for an O(embodiment) other than
        C(unitree_g1): the server's modality config carries no widths."
    type: dict
  sim_policy_wrapper:
    description:
      - The server runs with C(--use-sim-policy-wrapper) (C(Gr00tSimPolicyWrapper)), so the probe sends
        flat C(video.<key>) / C(state.<group>) keys and the language as a list of strings, and expects
        C(action.<group>) keys back. Otherwise the nested observation of C(Gr00tPolicy) is sent.
    type: bool
    default: false
  request_timeout_s:
    description: Deadline of each request, in seconds.
    type: float
    default: 10.0
  startup_timeout_s:
    description: How long to keep retrying C(ping) while the server starts, in seconds.
    type: float
    default: 600.0
  api_token:
    description:
      - API token of the server, if it requires one. Take it from Ansible Vault; it is never returned.
    type: str
  probe_in_check_mode:
    description:
      - Probe even in check mode (probing is read-only). Off by default because in check mode the server
        may not have been (re)started yet.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reports that it would probe; probes (read-only) when O(probe_in_check_mode=true).
  diff_mode:
    support: none
  idempotent:
    support: full
    description: Never changes anything; C(changed) is always false.
requirements:
  - groot_ops with pyzmq and msgpack on the controller
"""

EXAMPLES = r"""
- name: Probe the policy server from the controller
  groot_server_probe:
    host: "{{ ansible_host }}"
    port: 5555
    startup_timeout_s: 600
  delegate_to: localhost

- name: Probe a server started with --use-sim-policy-wrapper
  groot_server_probe:
    host: "{{ ansible_host }}"
    sim_policy_wrapper: true
  delegate_to: localhost
"""

RETURN = r"""
ok:
  description: Whether every stage passed.
  returned: always
  type: bool
endpoint:
  description: The probed endpoint, C(tcp://host:port).
  returned: always
  type: str
layout:
  description: The observation layout sent, C(nested) or C(flat (--use-sim-policy-wrapper)).
  returned: always
  type: str
stages:
  description:
    - One entry per stage run (ping, get_modality_config, get_action, reset) with C(ok), C(seconds) and
      C(detail), or C(error), C(reply) (what the server answered, arrays by dtype and shape) and maybe
      C(hint).
  returned: always
  type: list
  elements: dict
failed_stage:
  description: Name of the stage that failed; null when every stage passed.
  returned: always
  type: str
hint:
  description: A likely cause of the failure (for example the server's observation layout), or null.
  returned: always
  type: str
attempts:
  description: Number of ping attempts.
  returned: always
  type: int
seconds:
  description: Total probe time.
  returned: always
  type: float
"""
