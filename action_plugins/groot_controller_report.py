# groot_controller_report in the controller's Ansible worker (groot_ops.controller_action says why).
# Documentation: library/groot_controller_report.py.
from __future__ import annotations

import json
import os
from typing import Any, ClassVar

from groot_ops.controller_action import ControllerAction
from groot_ops.errors import GrootOpsError


class ActionModule(ControllerAction):
    ARGUMENT_SPEC: ClassVar[dict[str, dict[str, Any]]] = {
        "path": {"type": "path", "required": True},
        "content": {"type": "raw", "required": True},
        "mode": {"type": "str", "default": "0640"},
        "dir_mode": {"type": "str", "default": "0750"},
    }

    def work(self, params: dict[str, Any], *, check: bool) -> dict[str, Any]:
        from groot_ops.atomic import write_text

        path = params["path"]
        if check:
            # Not a check-mode step: a task writes its report in a plan by saying check_mode: false.
            return {"skipped": True, "msg": f"groot_controller_report: check mode, {path} not written"}
        try:
            mode, dir_mode = int(params["mode"], 8), int(params["dir_mode"], 8)
            parent = os.path.dirname(path)
            if not os.path.isdir(parent):
                os.makedirs(parent, exist_ok=True)
                os.chmod(parent, dir_mode)
            text = json.dumps(params["content"], indent=4, sort_keys=True, default=str) + "\n"
            write_text(path, text, mode=mode)
        except (OSError, ValueError, TypeError) as exc:
            raise GrootOpsError(f"groot_controller_report: cannot write {path}: {exc}") from exc
        return {"changed": False, "path": path}
