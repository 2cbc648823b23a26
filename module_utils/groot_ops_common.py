# Shared helpers for the groot_* modules: import groot_ops lazily on the managed host and turn
# its errors into fail_json with a readable message.
from __future__ import annotations

import socket
import traceback
from typing import Any

from ansible.module_utils import basic
from ansible.module_utils.basic import missing_required_lib

try:
    import groot_ops  # noqa: F401

    GROOT_OPS_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised on hosts without the package
    GROOT_OPS_IMPORT_ERROR = traceback.format_exc()


def require_groot_ops(module) -> None:
    """Fail with ``missing_required_lib`` naming this host when groot_ops is not importable."""
    if GROOT_OPS_IMPORT_ERROR is not None:
        module.fail_json(
            msg=missing_required_lib(
                f"groot_ops (pip install 'groot-ops[workstation]') on host {socket.gethostname()}"
                f" for interpreter {__import__('sys').executable}"
            ),
            exception=GROOT_OPS_IMPORT_ERROR,
        )


def groot_module(argument_spec: dict[str, dict[str, Any]], **kwargs: Any) -> basic.AnsibleModule:
    """The AnsibleModule of a groot_* module whose work is done by groot_ops on this host.

    Check mode is on unless ``supports_check_mode=False`` is passed: every groot_ops engine function
    takes ``check=``. Arguments are validated before groot_ops is required, so a wrong option in a task
    is reported as such even on a host without the package.
    """
    kwargs.setdefault("supports_check_mode", True)
    # basic.AnsibleModule is looked up per call: ansible-lint's args rule replaces that attribute to
    # read a module's spec without running it, and an import-time binding would run the module instead.
    module = basic.AnsibleModule(argument_spec=argument_spec, **kwargs)
    require_groot_ops(module)
    return module


def hub_argument_spec(*, token_required: bool = False) -> dict[str, dict[str, Any]]:
    """argument_spec of the Hub client options documented in doc_fragments/groot_hub.py."""
    # A fresh dict per call, so that no module's change to its spec reaches another module.
    return {
        "endpoint": {"type": "str"},
        "token": {"type": "str", "required": token_required, "no_log": True},
        "max_retries": {"type": "int"},
        "backoff_s": {"type": "float", "default": 1.0},
        "retry_budget_s": {"type": "float", "default": 900.0},
        "unreachable_budget_s": {"type": "float", "default": 120.0},
        "progress_file": {"type": "path"},
    }


def hub_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    """The groot_ops.hub keyword arguments of the options in hub_argument_spec."""
    return {
        "endpoint": params["endpoint"] or None,
        "token": params["token"] or None,
        "max_retries": params["max_retries"],
        "backoff_s": params["backoff_s"],
        "retry_budget_s": params["retry_budget_s"],
        "unreachable_budget_s": params["unreachable_budget_s"],
        "progress_file": params["progress_file"] or None,
    }


def call_groot(module, func, *args, **kwargs):
    """Run a groot_ops function; a GrootOpsError becomes fail_json with its message."""
    from groot_ops.errors import GrootOpsError

    try:
        return func(*args, **kwargs)
    except GrootOpsError as exc:
        # A Hub operation that gave up carries the lines of every retry it waited through.
        retries = getattr(exc, "retry_lines", None)
        module.fail_json(msg=str(exc), **({"retries": retries} if retries is not None else {}))
    return None  # unreachable: fail_json exits


def finish(module, result: dict) -> None:
    """exit_json, keeping ``diff`` only when the user asked for --diff."""
    result = dict(result)
    diff = result.pop("diff", None)
    if module._diff and diff is not None:
        result["diff"] = diff
    module.exit_json(**result)
