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
    description: Retries of each Hub operation on 429, 5xx and connection errors.
    type: int
    default: 5
  backoff_s:
    description: First wait between retries in seconds; doubled on each retry.
    type: float
    default: 1.0
requirements:
  - groot_ops with huggingface_hub (pip install 'groot-ops[workstation]') on the managed host
"""
