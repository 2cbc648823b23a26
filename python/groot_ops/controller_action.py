"""The controller side of the groot_* steps that only ever run on the controller.

A module run starts a new interpreter and imports ``ansible.module_utils.basic`` from AnsiballZ's zip
(compiled afresh every time: >= 0.4 s on a 2-core machine) before it does anything. The steps whose whole
work is a groot_ops call on the controller (the container gate, the own wheel, the controller report) are
action plugins in ``action_plugins/`` instead: they run inside the Ansible worker that would otherwise
start that module process. Their ``library/`` files keep the documentation (ansible-doc).

Only the controller imports this module (it needs ansible-core); the managed hosts never do.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ansible.plugins.action import ActionBase

from groot_ops.errors import GrootOpsError


class ControllerAction(ActionBase):
    """An action whose work is ``work(params, check=...)`` in this process, with the module's contract.

    Arguments are validated against ``ARGUMENT_SPEC`` as AnsibleModule would (types coerced, defaults
    filled, unknown options refused); a GrootOpsError becomes ``failed`` with its message; ``diff`` is
    returned only under ``--diff``; ``changed`` defaults to false.
    """

    # Nothing of the task's host is touched: no connection is made, whatever delegate_to says.
    _requires_connection = False
    ARGUMENT_SPEC: ClassVar[dict[str, dict[str, Any]]] = {}

    def work(self, params: dict[str, Any], *, check: bool) -> dict[str, Any]:
        raise NotImplementedError

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        _, params = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)
        try:
            outcome = dict(self.work(params, check=bool(self._task.check_mode)))
        except GrootOpsError as exc:
            failed: dict[str, Any] = {"failed": True, "changed": False, "msg": str(exc)}
            # A Hub operation that gave up carries the lines of every retry it waited through.
            retries = getattr(exc, "retry_lines", None)
            if retries is not None:
                failed["retries"] = list(retries)
            return {**result, **failed}
        diff = outcome.pop("diff", None)
        if self._task.diff and diff is not None:
            outcome["diff"] = diff
        outcome.setdefault("changed", False)
        return {**result, **outcome}
