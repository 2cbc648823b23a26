#!/usr/bin/python
# Thin adapter over groot_ops.hub.progress (standard library only, shipped as module_utils).
from __future__ import annotations

DOCUMENTATION = r"""
---
module: groot_progress
short_description: Read the progress lines a long-running groot-ops job has written so far
description:
  - Reads the JSON-lines O(progress_file) that a job started with C(async) appends to (for example
    M(groot_datasets_download)), from the C(start) record of the run named O(job) on.
  - Returns the lines that no earlier poll of the same run returned (a cursor file next to the progress
    file remembers them), so that an C(until) loop shows each line once, as it appears; C(until) runs
    its task with the arguments templated once, so the loop could not pass back what it saw.
  - With O(results_file) (the async task's C(results_file)), returns the job's own result once it has
    finished, also when the job died before writing its last line.
  - Read-only. Standard library only; runs where groot_ops is not installed.
version_added: "0.2.0"
author: groot-ops maintainers
options:
  progress_file:
    description: The job's progress file on the managed host.
    type: path
    required: true
  job:
    description: The token the job was started with.
    type: str
    required: true
  since:
    description: Return the lines after the first O(since) ones instead of those no earlier poll returned.
    type: int
  results_file:
    description: The async job's result file (C(results_file) of the registered async task).
    type: path
  wait_s:
    description:
      - Wait up to this many seconds for a new line or the job's end before returning (checked every
        0.1 s), so that an C(until) loop polls without a C(delay) and hears of the end at once.
    type: float
    default: 0.0
attributes:
  check_mode:
    support: full
    description: Reads the progress file and updates only its own cursor file next to it, in check mode too.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
  idempotent:
    support: full
    description: Always C(changed=false); the cursor file is the poller's own bookkeeping.
"""

EXAMPLES = r"""
- name: Wait for the downloads, one line per retry as it happens
  groot_progress:
    progress_file: /workspace/datasets/.progress/downloads.jsonl
    job: "{{ downloads_job_token }}"
    results_file: "{{ downloads_job.results_file }}"
  register: downloads_progress
  until: downloads_progress.done
  retries: 4320
  delay: 5
"""

RETURN = r"""
done:
  description: Whether the job has finished (successfully or not).
  returned: always
  type: bool
started:
  description: Whether the job's C(start) record is there yet.
  returned: always
  type: bool
lines:
  description: The lines no earlier poll returned (or those after the first O(since) ones).
  returned: always
  type: list
  elements: str
lines_total:
  description: How many lines this run of the job has written in all.
  returned: always
  type: int
last:
  description: The newest line, if any.
  returned: always
  type: str
msg:
  description: The newest line, or a note that the job has not started yet.
  returned: always
  type: str
result:
  description: The job's result once it has finished (from O(results_file), else its C(done) record).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.groot_ops_progress import wait_progress


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "progress_file": {"type": "path", "required": True},
            "job": {"type": "str", "required": True},
            "since": {"type": "int"},
            "results_file": {"type": "path"},
            "wait_s": {"type": "float", "default": 0.0},
        },
        supports_check_mode=True,
    )
    p = module.params
    module.exit_json(
        **wait_progress(
            p["progress_file"],
            job=p["job"],
            since=p["since"],
            results_file=p["results_file"],
            wait_s=p["wait_s"],
        )
    )


if __name__ == "__main__":
    main()
