#!/usr/bin/python
# Thin adapter over groot_ops.disk.docker_prune (standard library only, shipped as module_utils).
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_docker_prune
short_description: Remove the stopped containers, dangling images and unused networks this project made
description:
  - Runs on a Docker engine host (C(workstations), C(inference)) with its docker CLI; needs neither
    groot_ops nor any Python package beyond the standard library.
  - Candidates carry the project's label O(role_label) (every role that creates a container sets it) and
    match every filter of O(extra_filters) - stopped containers, dangling images that no container uses,
    networks no container is attached to. A candidate whose role is one of O(protected_roles) (the
    workstation, the server) is never removed, whatever its state.
  - Never removes a tagged image (no C(image prune -a)) nor the build cache (it carries no labels).
  - Each object's labels are read again just before it is removed, and removals never force, so an
    object that came into use meanwhile is left alone and reported.
version_added: "0.2.0"
author: groot-ops maintainers
options:
  state:
    description:
      - V(report) lists every candidate with its size and removes nothing (never changed).
      - V(clean) removes them (see O(target)).
    type: str
    choices: [report, clean]
    default: clean
  target:
    description:
      - V(all) removes every candidate.
      - V(watermark) acts only when free space on O(watch_path) is below O(act_below_percent), then removes
        the largest candidates first until O(stop_at_percent) is free.
    type: str
    choices: [all, watermark]
    default: all
  watch_path:
    description: A path on the filesystem of the engine's data root (for the watermarks and the report).
    type: path
    default: /
  act_below_percent:
    description: With O(target=watermark), act when less than this percentage is free.
    type: float
    default: 15
  stop_at_percent:
    description: With O(target=watermark), stop once this percentage is free.
    type: float
    default: 25
  docker_host:
    description: C(DOCKER_HOST) for the CLI; omitted, the CLI's default engine.
    type: str
  role_label:
    description: The label every object of this project carries; objects without it are never touched.
    type: str
    default: org.groot-ops.role
  protected_roles:
    description: Values of O(role_label) whose objects are never removed.
    type: list
    elements: str
    default: [workstation, server]
  extra_filters:
    description: More C(docker --filter) expressions every candidate must match (C(label=KEY=VALUE)).
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    description: Names each object that would be removed with its size; removes nothing.
  diff_mode:
    support: full
    description: The candidates before and after, one line each with kind, name, id, role and size.
  idempotent:
    support: full
    description: Once the candidates are gone a re-run finds none and changes nothing.
requirements:
  - a docker CLI on the host
"""

EXAMPLES = r"""
- name: Name what a cleanup would remove (check mode does the same)
  groot_docker_prune:
    state: report

- name: Remove this project's stopped containers, dangling images and unused networks
  groot_docker_prune:
"""

RETURN = r"""
candidates:
  description: Every removable object - C(kind), C(id), C(name), C(role), C(bytes) (largest first).
  returned: always
  type: list
  elements: dict
removed:
  description: The objects removed (in check mode, that would be removed).
  returned: always
  type: list
  elements: dict
lines:
  description:
    - What to show the operator, one line each - every object removed (would be removed; with
      O(state=report) every candidate) with its size, every object kept and why, every refusal, a total.
  returned: always
  type: list
  elements: str
items:
  description: One line per removed object, with its size.
  returned: always
  type: list
  elements: str
kept:
  description: Objects of the project left alone, and why (a protected role, an image a container uses).
  returned: always
  type: list
  elements: str
errors:
  description: Removals the engine refused (the others went on).
  returned: always
  type: list
  elements: str
freed_bytes:
  description: Bytes of the removed objects (container writable layers, images' unique size).
  returned: always
  type: int
reclaimable_bytes:
  description: Bytes of every candidate.
  returned: always
  type: int
free_before:
  description: Free bytes on O(watch_path) before.
  returned: always
  type: int
free_after:
  description: Free bytes after (estimated in check mode and with O(state=report)).
  returned: always
  type: int
total_bytes:
  description: Size of the filesystem holding O(watch_path).
  returned: always
  type: int
acted:
  description: Whether the target asked for removals.
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.groot_ops_docker_prune import DockerPruneError, prune


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "state": {"type": "str", "choices": ["report", "clean"], "default": "clean"},
            "target": {"type": "str", "choices": ["all", "watermark"], "default": "all"},
            "watch_path": {"type": "path", "default": "/"},
            "act_below_percent": {"type": "float", "default": 15},
            "stop_at_percent": {"type": "float", "default": 25},
            "docker_host": {"type": "str"},
            "role_label": {"type": "str", "default": "org.groot-ops.role"},
            "protected_roles": {"type": "list", "elements": "str", "default": ["workstation", "server"]},
            "extra_filters": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    p = module.params
    try:
        result = prune(
            state=p["state"],
            target=p["target"],
            watch_path=p["watch_path"],
            act_below_percent=p["act_below_percent"],
            stop_at_percent=p["stop_at_percent"],
            docker_host=p["docker_host"] or None,
            role_label=p["role_label"],
            protected_roles=tuple(p["protected_roles"]),
            extra_filters=tuple(p["extra_filters"]),
            check=module.check_mode,
        )
    except DockerPruneError as exc:
        module.fail_json(msg=f"docker cleanup on this engine host failed: {exc}")
    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
