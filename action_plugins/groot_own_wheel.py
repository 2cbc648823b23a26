# groot_own_wheel in the controller's Ansible worker (groot_ops.controller_action says why); the digest
# and the build are groot_ops.own_wheel.ensure_wheel. Documentation: library/groot_own_wheel.py.
from __future__ import annotations

import sys
from typing import Any, ClassVar

from groot_ops.controller_action import ControllerAction


class ActionModule(ControllerAction):
    ARGUMENT_SPEC: ClassVar[dict[str, dict[str, Any]]] = {
        "src": {"type": "path", "required": True},
        "cache_dir": {"type": "path", "required": True},
        "python": {"type": "str"},
    }

    def work(self, params: dict[str, Any], *, check: bool) -> dict[str, Any]:
        from groot_ops.own_wheel import ensure_wheel

        return ensure_wheel(
            params["src"], params["cache_dir"], python=params["python"] or sys.executable, check=check
        )
