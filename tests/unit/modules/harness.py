"""Run a module from ``library/`` in-process, the way Ansible would, and return its JSON result.

The module's real ``main()`` runs with its arguments injected through ansible-core's
``patch_module_args``; ``module_utils/`` is made importable as ``ansible.module_utils``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import ansible.module_utils
from ansible.module_utils.testing import patch_module_args

REPO_ROOT = Path(__file__).resolve().parents[3]
_MODULE_UTILS = str(REPO_ROOT / "module_utils")
if _MODULE_UTILS not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(_MODULE_UTILS)


def load_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"groot_ops_test_{name}", REPO_ROOT / "library" / f"{name}.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_module(name: str, args: dict[str, Any], *, check: bool = False, diff: bool = False) -> dict[str, Any]:
    """The module's result dict; ``failed`` is set when it called ``fail_json``."""
    module = load_module(name)
    out = io.StringIO()
    with (
        patch_module_args({**args, "_ansible_check_mode": check, "_ansible_diff": diff}),
        contextlib.redirect_stdout(out),
        contextlib.suppress(SystemExit),
    ):
        module.main()
    return json.loads(out.getvalue())
