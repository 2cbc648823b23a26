# Hub client options shared by groot_dataset and groot_hub_upload. Their argument_spec is
# module_utils/groot_ops_common.py:hub_argument_spec; tests/unit/modules/test_module_docs.py fails
# when the two drift apart.
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  endpoint:
    description: Hub endpoint URL; defaults to C(HF_ENDPOINT) or https://huggingface.co.
    type: str
  token:
    description:
      - Hub token for private or gated repos. Take it from Ansible Vault; it is never logged or returned.
    type: str
  max_retries:
    description:
      - A cap on retries of each Hub operation besides the time budgets; omitted, the budgets alone decide.
    type: int
  backoff_s:
    description:
      - First wait between retries in seconds, doubled on each retry (at most 60 s); a C(Retry-After) or
        C(RateLimit) reset sent by the Hub is waited in full instead.
    type: float
    default: 1.0
  retry_budget_s:
    description:
      - Seconds one Hub operation keeps retrying 429, 5xx and dropped connections before it fails.
      - The default outlasts two of huggingface.co's 5-minute rate-limit windows.
    type: float
    default: 900.0
  unreachable_budget_s:
    description:
      - Seconds one Hub operation keeps retrying while the endpoint cannot be reached at all (name
        resolution, connection refused or timed out); the error then names the endpoint.
    type: float
    default: 120.0
  progress_file:
    description:
      - A file on the managed host to which one JSON line is appended for every retry as its wait starts
        (C(kind), C(line), C(endpoint), C(wait_s), ...), for a poller to show while the task runs.
    type: path
requirements:
  - groot_ops with huggingface_hub (pip install 'groot-ops[workstation]') on the managed host
"""
