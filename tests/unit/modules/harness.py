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


def _load(directory: str, prefix: str, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"{prefix}{name}", REPO_ROOT / directory / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_module(name: str) -> ModuleType:
    return _load("library", "groot_ops_test_", name)


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


def load_action(name: str) -> ModuleType:
    """The action plugin ``action_plugins/<name>.py`` (the steps that run on the controller)."""
    return _load("action_plugins", "groot_ops_test_action_", name)


class _Task:
    """What ActionBase reads of a task: its action, arguments, check and diff flags, no async."""

    def __init__(self, name: str, args: dict[str, Any], *, check: bool, diff: bool) -> None:
        self.action, self.args, self.check_mode, self.diff = name, dict(args), check, diff
        self.async_val = 0


class _Connection:
    class _shell:  # ActionBase reads connection._shell.tmpdir
        tmpdir = None


def run_action(name: str, args: dict[str, Any], *, check: bool = False, diff: bool = False) -> dict[str, Any]:
    """The action plugin's result dict, run as the Ansible worker runs it (no connection is made)."""
    action = load_action(name).ActionModule(
        task=_Task(name, args, check=check, diff=diff),
        connection=_Connection(),
        play_context=None,
        loader=None,
        templar=None,
    )
    return action.run(task_vars={})
