#!/usr/bin/python
# Thin adapter: launch/resume/stop/status live in groot_ops.train.control on the managed host.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_train
short_description: Launch, resume, observe or stop a supervised GR00T N1.6 fine-tuning run
description:
  - With O(state=started), launches C(torchrun gr00t/experiment/launch_finetune.py) for a recipe under a
    detached supervisor (own session, survives the connection) and returns at once. The supervisor keeps
    a run directory O(runs_root)/O(recipe) with C(cmdline.json), C(pid), C(train.log), C(exit_code) and
    C(status.json), C(attempts.json) and, for a new run, C(launch.json) (its provenance), and the
    workstation lock O(runs_root)/C(active.json).
  - Re-running the same recipe is a true resume from the newest complete checkpoint in O(output_dir)
    (half-written checkpoints are moved to a quarantine directory first); a finished run or one already
    training is a no-op; while another recipe trains on the host the launch is refused, naming it.
  - O(state=status) returns the run's status; O(state=finished) does the same but fails when the run
    failed or stopped, and returns C(finished) for an C(until) loop; O(state=stopped) stops the run.
  - A finished run whose dataset changed since its launch is reported as trained on older data (C(msg),
    C(status.trained_on_older_data)); it is never relaunched silently.
  - Needs the C(groot_ops) Python package on the managed host.
version_added: "0.1.0"
author: groot-ops maintainers
options:
  state:
    description: What to ensure or report.
    type: str
    choices: [started, finished, stopped, status]
    default: started
  recipe:
    description: Recipe name; also the run directory name.
    type: str
    required: true
  runs_root:
    description: Directory of run directories and the workstation lock.
    type: path
    required: true
  isaac_groot_dir:
    description: Isaac-GR00T checkout (C(gr00t/experiment/launch_finetune.py) is launched from it).
    type: path
  python:
    description: Interpreter that runs C(-m torch.distributed.run); defaults to the module's interpreter.
    type: path
  dataset_path:
    description: GR00T dataset (one path; merge first).
    type: path
  output_dir:
    description: Checkpoint directory of the recipe; the same directory on every run means resume.
    type: path
  base_model_path:
    description: HF id or local directory of the base model.
    type: str
  embodiment_tag:
    description: Embodiment enum member name.
    type: str
    default: UNITREE_G1
  flags:
    description: launch_finetune.py flags under their contract names (max_steps, save_steps, ...).
    type: dict
    default: {}
  nnodes:
    description: Number of training hosts.
    type: int
    default: 1
  node_rank:
    description: Rank of this host (0 is the rendezvous host).
    type: int
    default: 0
  nproc_per_node:
    description: GPUs (processes) on this host; C(--num_gpus) is O(nnodes) x O(nproc_per_node).
    type: int
    default: 1
  rdzv_endpoint:
    description: C(host:port) of the rendezvous on the first host (multi-node only).
    type: str
    default: ""
  rdzv_id:
    description: Rendezvous id (c10d only); defaults to the recipe name.
    type: str
    default: ""
  rdzv_backend:
    description:
      - C(static) (C(--master_addr/--master_port)) makes O(node_rank) 0, the first host, global rank 0, which
        writes the checkpoints; C(c10d) assigns ranks in joining order.
    type: str
    choices: [static, c10d]
    default: static
  warm_start_from:
    description:
      - Checkpoint used as base weights for a new run (fresh optimizer and schedule). This is a warm start,
        not a resume; re-running the recipe is the resume.
    type: path
  warm_start_source:
    description:
      - The Hub model in O(warm_start_from) as C({repo_id, revision, sha}) (M(groot_warm_start)'s result),
        recorded in the launch record and the model card.
    type: dict
  env:
    description: Extra environment of the trainer (no secrets; names that look like secrets are refused).
    type: dict
    default: {}
  secrets:
    description:
      - Secret environment (for example C(WANDB_API_KEY)) handed to the supervisor in a 0600 file that it
        deletes after reading; never on a command line or in status files.
    type: dict
    default: {}
  max_retries:
    description: Automatic relaunches after a disk-full (once the disk guard ran) or rendezvous timeout.
    type: int
    default: 2
  disk_guard:
    description: Disk guard configuration; before each save the supervisor checks the next checkpoint fits.
    type: dict
  quarantine_dir:
    description: Where incomplete checkpoints are moved; default C(<output_dir>/../.quarantine/<recipe>).
    type: path
  checkpoint_bytes:
    description:
      - Expected checkpoint size for the disk check before the first checkpoint exists (the finetune role
        passes the size preflight budgets with); later checks learn it from the newest checkpoint.
    type: int
    default: 0
  retry_backoff_s:
    description: Seconds before the n-th automatic relaunch, times n.
    type: float
    default: 5.0
  groot_ops_commit:
    description:
      - Provenance of the launch, the controller's groot-ops commit. Recorded in C(cmdline.json),
        C(spec.json) and C(status.json) when the run is launched or resumed; it is not part of the command
        line, so a different value never makes a running or finished run look changed.
    type: str
  groot_ops_dirty:
    description: Whether the controller's groot-ops tree had uncommitted changes at launch (recorded too).
    type: bool
  datasets_provenance:
    description:
      - The datasets role's provenance file of the recipe (dataset repos, revisions and commit SHAs). Its
        datasets are recorded in the run's C(launch.json) when a new run is launched (not on resumes).
    type: path
  base_model_revision:
    description:
      - The base model's pinned revision, recorded in C(launch.json); unset, the commit the local HF cache
        resolves C(main) to, when the cache holds the model.
    type: str
attributes:
  check_mode:
    support: full
    description: Reports C(action) (launch, resume, noop, refused, stop) and what would be quarantined.
  diff_mode:
    support: full
    description: Shows the previous and the new torchrun command line.
  idempotent:
    support: full
    description: A running or finished run of the same recipe and command reports C(changed=false).
requirements:
  - groot_ops (pip install 'groot-ops[workstation]') on the managed host
notes:
  - Never use C(async) to wait for training; poll O(state=finished) with C(until).
"""

EXAMPLES = r"""
- name: Launch or resume fold-towel
  groot_train:
    recipe: fold-towel
    runs_root: /workspace/runs
    isaac_groot_dir: /workspace/Isaac-GR00T
    dataset_path: /workspace/datasets/groot/fold_towel
    output_dir: /workspace/checkpoints/fold-towel
    base_model_path: nvidia/GR00T-N1.6-3B
    flags: {max_steps: 10000, save_steps: 2000, save_total_limit: 2, global_batch_size: 64}
    secrets: {WANDB_API_KEY: "{{ vault_wandb_api_key }}"}
  no_log: true

- name: Wait for it
  groot_train:
    state: finished
    recipe: fold-towel
    runs_root: /workspace/runs
  register: run
  until: run.finished
  retries: 720
  delay: 60
"""

RETURN = r"""
action:
  description: launched, resumed, noop or refused (launch/resume in check mode); stop/stopped to stop.
  returned: state=started or state=stopped
  type: str
command:
  description: The torchrun command line (no secrets).
  returned: state=started
  type: str
resume_step:
  description: Step of the newest complete checkpoint the run resumes from.
  returned: state=started
  type: int
quarantine:
  description: Incomplete checkpoints moved (or, in check mode, to be moved) to quarantine.
  returned: state=started
  type: list
  elements: dict
running_recipe:
  description: The recipe that holds the workstation when the launch is refused.
  returned: when refused
  type: str
status:
  description: C(status.json) of the run (state, step, max_steps, loss, learning_rate, grad_norm, it_s,
    eta_s, phase, nonfinite, saving_checkpoint, last_checkpoint, last_servable_checkpoint, disk_free_bytes,
    loss_plot, failure; trained_on_older_data and data_drift for a finished run).
  returned: always
  type: dict
summary:
  description: One line of progress (state, step, loss, it/s, ETA, last checkpoint, disk free, advice).
  returned: state=finished or state=status
  type: str
finished:
  description: True once the run finished.
  returned: state=finished or state=status
  type: bool
"""

import os
import sys

from ansible.module_utils.groot_ops_common import call_groot, finish, groot_module

SPEC_KEYS = (
    "recipe",
    "runs_root",
    "isaac_groot_dir",
    "python",
    "dataset_path",
    "output_dir",
    "base_model_path",
    "embodiment_tag",
    "flags",
    "nnodes",
    "node_rank",
    "nproc_per_node",
    "rdzv_endpoint",
    "rdzv_id",
    "rdzv_backend",
    "warm_start_from",
    "env",
    "max_retries",
    "disk_guard",
    "quarantine_dir",
    "checkpoint_bytes",
    "retry_backoff_s",
    "groot_ops_commit",
    "groot_ops_dirty",
    "datasets_provenance",
    "base_model_revision",
    "warm_start_source",
)


def _status_result(module, control, progress_line, params) -> dict:
    status = call_groot(module, control.status, params["runs_root"], params["recipe"])
    state = str(status.get("state", ""))
    result = {
        "changed": False,
        "status": status,
        "finished": state == "finished",
        "state": state,
        "summary": progress_line(status),
    }
    if params["state"] == "finished" and (state.startswith("failed:") or state in ("stopped", "absent")):
        failure = status.get("failure") or {}
        module.fail_json(
            msg=f"training {params['recipe']} is {state}: {failure.get('message', '')}".rstrip(": "),
            advice=failure.get("advice"),
            **result,
        )
    return result


def main() -> None:
    module = groot_module(
        {
            "state": {
                "type": "str",
                "choices": ["started", "finished", "stopped", "status"],
                "default": "started",
            },
            "recipe": {"type": "str", "required": True},
            "runs_root": {"type": "path", "required": True},
            "isaac_groot_dir": {"type": "path"},
            "python": {"type": "path"},
            "dataset_path": {"type": "path"},
            "output_dir": {"type": "path"},
            "base_model_path": {"type": "str"},
            "embodiment_tag": {"type": "str", "default": "UNITREE_G1"},
            "flags": {"type": "dict", "default": {}},
            "nnodes": {"type": "int", "default": 1},
            "node_rank": {"type": "int", "default": 0},
            "nproc_per_node": {"type": "int", "default": 1},
            "rdzv_endpoint": {"type": "str", "default": ""},
            "rdzv_id": {"type": "str", "default": ""},
            "rdzv_backend": {"type": "str", "choices": ["static", "c10d"], "default": "static"},
            "warm_start_from": {"type": "path"},
            "env": {"type": "dict", "default": {}},
            "secrets": {"type": "dict", "default": {}, "no_log": True},
            "max_retries": {"type": "int", "default": 2},
            "disk_guard": {"type": "dict"},
            "quarantine_dir": {"type": "path"},
            "checkpoint_bytes": {"type": "int", "default": 0},
            "retry_backoff_s": {"type": "float", "default": 5.0},
            "groot_ops_commit": {"type": "str"},
            "groot_ops_dirty": {"type": "bool"},
            "datasets_provenance": {"type": "path"},
            "base_model_revision": {"type": "str"},
            "warm_start_source": {"type": "dict"},
        },
        required_if=[
            ("state", "started", ("isaac_groot_dir", "dataset_path", "output_dir", "base_model_path")),
        ],
    )
    from groot_ops.train import control
    from groot_ops.train.summary import progress_line

    params = module.params
    if params["state"] in ("status", "finished"):
        finish(module, _status_result(module, control, progress_line, params))
    if params["state"] == "stopped":
        result = call_groot(
            module, control.stop, params["runs_root"], params["recipe"], check=module.check_mode
        )
        finish(module, result)
    spec = {key: params[key] for key in SPEC_KEYS if params.get(key) is not None}
    spec.setdefault("python", sys.executable)
    secrets = {str(k): str(v) for k, v in (params["secrets"] or {}).items()}
    result = call_groot(module, control.start, spec, check=module.check_mode, secrets=secrets)
    result["node"] = os.uname().nodename
    if result.get("action") == "refused":
        module.fail_json(**{k: v for k, v in result.items() if k != "diff"})
    finish(module, result)


if __name__ == "__main__":
    main()
