# groot_controller_repo in the controller's Ansible worker (groot_ops.controller_action says why); the
# reading is groot_ops.train.repo_state. Documentation: library/groot_controller_repo.py.
from __future__ import annotations

from typing import Any, ClassVar

from groot_ops.controller_action import ControllerAction


class ActionModule(ControllerAction):
    ARGUMENT_SPEC: ClassVar[dict[str, dict[str, Any]]] = {"path": {"type": "path", "required": True}}

    def work(self, params: dict[str, Any], *, check: bool) -> dict[str, Any]:
        from groot_ops.train.repo_state import repo_state

        # Only reads: the same in check mode.
        return dict(repo_state(params["path"]))
