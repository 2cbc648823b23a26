#!/usr/bin/python
# Thin adapter: the policy is groot_ops.disk.policy.run_policy on the managed host.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_disk_guard
short_description: Reclaim disk space on the training host without touching what must be kept
description:
  - Runs the groot-ops disk-guard policy on the checkpoint filesystem O(config.watch_path) - ordered
    cleanup steps (interrupted and detached Hugging Face cache entries, unused cached repos by last
    access, uv/pip/conda caches, old quarantined checkpoints, checkpoints of finished runs beyond
    retention, docker prune of stopped containers, dangling images, build cache and networks, old
    files in the tmp dir) until the watermarks are met.
  - The protected set (base model cache, newest complete checkpoint of every run, exports, datasets in
    use, user-listed paths) is checked before every deletion and is never deleted.
  - The same policy runs inside the training supervisor before each checkpoint save.
  - Needs the C(groot_ops) Python package on the managed host.
version_added: "0.1.0"
author: groot-ops maintainers
options:
  state:
    description:
      - V(report) measures what every step could reclaim and deletes nothing (never changed).
      - V(clean) deletes what the watermarks (or O(target=all)) ask for.
    type: str
    choices: [report, clean]
    default: clean
  config:
    description:
      - The disk-guard configuration, keys of C(groot_ops.disk.config.DiskGuardConfig) - C(watch_path)
        (required), C(act_below_percent), C(stop_at_percent), C(checkpoint_margin), C(hf_cache),
        C(base_model_repo_ids), C(dataset_repo_ids), C(pip_cache_dirs), C(uv_cache_dirs), C(conda_pkgs_dirs),
        C(quarantine_dir), C(quarantine_max_age_days), C(runs), C(checkpoints_root), C(runs_root),
        C(run_retention), C(exports_dir), C(datasets_in_use), C(protected_paths), C(docker_prune),
        C(docker_host), C(docker_prune_filter), C(tmp_dir), C(tmp_max_age_days), C(steps).
      - Unknown keys are refused.
    type: dict
    required: true
  target:
    description:
      - V(watermark) cleans only below the act watermark, up to the stop watermark.
      - V(all) reclaims everything reclaimable outside the protected set.
      - Omitted, C(config.target) applies (default V(watermark)).
    type: str
    choices: [watermark, all]
  need_bytes:
    description: Bytes that must fit afterwards (times C(checkpoint_margin)); 0 means only the watermarks.
    type: int
    default: 0
  fail_when_short:
    description: Fail when the free space is still below what is required after cleaning.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reports the bytes each step would free and the items it would delete; deletes nothing.
  diff_mode:
    support: full
    description: The diff lists every item that is (or would be) deleted.
  idempotent:
    support: full
    description: Once the watermarks are met (or nothing reclaimable is left) a re-run changes nothing.
requirements:
  - groot_ops (pip install 'groot-ops[workstation]') on the managed host
  - huggingface_hub for the Hugging Face cache steps
  - a docker CLI when C(config.docker_prune) is true
"""

EXAMPLES = r"""
- name: Report reclaimable space
  groot_disk_guard:
    state: report
    config:
      watch_path: /workspace/checkpoints
      hf_cache: /workspace/hf-cache/hub

- name: Reclaim space below 15 % free, up to 25 %
  groot_disk_guard:
    config:
      watch_path: /workspace/checkpoints
      hf_cache: /workspace/hf-cache/hub
      quarantine_dir: /workspace/checkpoints/.quarantine
      checkpoints_root: /workspace/checkpoints
      runs_root: /workspace/runs
      exports_dir: /workspace/exports
      datasets_in_use: [/workspace/datasets/groot/hospitality-7ds-merged]
"""

RETURN = r"""
freed_bytes:
  description: Bytes freed (in check mode and with O(state=report), bytes that would be freed).
  returned: always
  type: int
reclaimable_bytes:
  description: Bytes every step could reclaim now.
  returned: when O(state=report)
  type: int
steps:
  description:
    - One entry per step - C(name), C(freed_bytes), C(items) deleted, C(protected) refusals, C(skipped),
      C(errors) (candidates that could not be deleted, e.g. on a read-only mount; the policy goes on).
  returned: always
  type: list
  elements: dict
free_before:
  description: Free bytes on C(watch_path) before.
  returned: always
  type: int
free_after:
  description: Free bytes after (estimated in check mode).
  returned: always
  type: int
total_bytes:
  description: Size of the filesystem holding C(watch_path).
  returned: always
  type: int
required_bytes:
  description: Free bytes required (the act watermark, or O(need_bytes) times the margin).
  returned: always
  type: int
acted:
  description: Whether the watermarks asked for cleaning.
  returned: always
  type: bool
ok:
  description: Whether C(free_after) reaches C(required_bytes).
  returned: always
  type: bool
protected:
  description: The protected paths that were checked before every deletion.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.groot_ops_common import call_groot, finish, groot_module


def _policy(config: dict, *, state: str, target: str | None, check: bool, need_bytes: int) -> dict:
    from groot_ops.disk.policy import run_policy

    config = dict(config)
    if state == "report":
        config["target"] = "all"
        result = run_policy(config, check=True, need_bytes=need_bytes)
        result["reclaimable_bytes"] = result["freed_bytes"]
        result["changed"] = False
        return result
    if target:
        config["target"] = target
    return run_policy(config, check=check, need_bytes=need_bytes)


def main() -> None:
    module = groot_module(
        {
            "state": {"type": "str", "choices": ["report", "clean"], "default": "clean"},
            "config": {"type": "dict", "required": True},
            "target": {"type": "str", "choices": ["watermark", "all"]},
            "need_bytes": {"type": "int", "default": 0},
            "fail_when_short": {"type": "bool", "default": False},
        },
    )
    params = module.params
    result = call_groot(
        module,
        _policy,
        params["config"],
        state=params["state"],
        target=params["target"],
        check=module.check_mode,
        need_bytes=params["need_bytes"],
    )
    if params["fail_when_short"] and not result["ok"]:
        module.fail_json(
            msg=f"disk guard: {result['free_after']} bytes free on {params['config'].get('watch_path')} "
            f"after cleaning, {result['required_bytes']} required; free space or lower save_total_limit",
            **{k: v for k, v in result.items() if k != "diff"},
        )
    finish(module, result)


if __name__ == "__main__":
    main()
