"""The roles' task files, walked as they run: blocks (with their ``vars``) and static task includes.

The render templates the very module arguments a role passes, so what it prints is what would run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from groot_ops.errors import ConfigError

BLOCK_KEYS = ("block", "rescue", "always")
INCLUDES = (
    "ansible.builtin.import_tasks",
    "ansible.builtin.include_tasks",
    "import_tasks",
    "include_tasks",
)


@dataclass
class TaskRef:
    """One task: its file, name, module, arguments, and the vars of the blocks and includes around it."""

    file: Path
    name: str
    module: str
    args: Any
    task: dict[str, Any]
    scope_vars: dict[str, Any] = field(default_factory=dict)

    @property
    def vars(self) -> dict[str, Any]:
        """The vars in scope of the task: enclosing blocks and includes, then the task's own."""
        return {**self.scope_vars, **(self.task.get("vars") or {})}


def _module_of(task: dict[str, Any]) -> str | None:
    known = {
        "name", "vars", "when", "register", "loop", "loop_control", "tags", "delegate_to", "run_once",
        "become", "check_mode", "changed_when", "failed_when", "no_log", "until", "retries", "delay",
        "environment", "ignore_errors", "notify", "block", "rescue", "always", "args", "listen",
    }  # fmt: skip
    modules = [key for key in task if key not in known]
    return modules[0] if modules else None


def load_tasks(path: Path) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"task file {path} does not exist") from None
    return data or []


def iter_tasks(path: Path, scope: dict[str, Any] | None = None) -> Iterator[TaskRef]:
    """Every task of a task file in order, into blocks and static includes (file names without templates)."""
    scope = dict(scope or {})
    for task in load_tasks(path):
        if any(key in task for key in BLOCK_KEYS):
            inner = {**scope, **(task.get("vars") or {})}
            for key in BLOCK_KEYS:
                for child in task.get(key) or []:
                    yield from _walk_one(path, child, inner)
            continue
        yield from _walk_one(path, task, scope)


def _walk_one(path: Path, task: dict[str, Any], scope: dict[str, Any]) -> Iterator[TaskRef]:
    if any(key in task for key in BLOCK_KEYS):
        inner = {**scope, **(task.get("vars") or {})}
        for key in BLOCK_KEYS:
            for child in task.get(key) or []:
                yield from _walk_one(path, child, inner)
        return
    module = _module_of(task)
    if module is None:
        return
    args = task[module]
    yield TaskRef(path, str(task.get("name", "")), module, args, task, dict(scope))
    if module in INCLUDES and isinstance(args, str) and "{{" not in args:
        yield from iter_tasks(path.parent / args, {**scope, **(task.get("vars") or {})})


def find_task(role_dir: Path, module: str, *, name_contains: str = "", entry: str = "main.yml") -> TaskRef:
    """The first task of a role (from its entry file) that calls ``module``."""
    for ref in iter_tasks(role_dir / "tasks" / entry):
        if ref.module == module and name_contains in ref.name:
            return ref
    raise ConfigError(
        f"role {role_dir.name} has no task calling {module}"
        + (f" named like {name_contains!r}" if name_contains else "")
        + ": the render follows the roles' tasks, update groot_ops.render with them"
    )


def find_tasks(
    role_dir: Path, module: str, *, name_contains: str = "", entry: str = "main.yml"
) -> list[TaskRef]:
    return [
        r for r in iter_tasks(role_dir / "tasks" / entry) if r.module == module and name_contains in r.name
    ]
