# groot_server_probe in the controller's Ansible worker (groot_ops.controller_action says why): the probe
# speaks ZMQ from the controller, so no module process is needed.
# Documentation: library/groot_server_probe.py.
from __future__ import annotations

from typing import Any, ClassVar

from groot_ops.controller_action import ControllerAction


class ActionModule(ControllerAction):
    ARGUMENT_SPEC: ClassVar[dict[str, dict[str, Any]]] = {
        "host": {"type": "str", "required": True},
        "port": {"type": "int", "default": 5555},
        "embodiment": {"type": "str", "default": "unitree_g1"},
        "statistics": {"type": "dict"},
        "sim_policy_wrapper": {"type": "bool", "default": False},
        "request_timeout_s": {"type": "float", "default": 10.0},
        "startup_timeout_s": {"type": "float", "default": 600.0},
        "api_token": {"type": "str", "no_log": True},
        "probe_in_check_mode": {"type": "bool", "default": False},
    }

    def work(self, params: dict[str, Any], *, check: bool) -> dict[str, Any]:
        endpoint = f"tcp://{params['host']}:{params['port']}"
        if check and not params["probe_in_check_mode"]:
            return {
                "ok": True,
                "endpoint": endpoint,
                "stages": [],
                "attempts": 0,
                "seconds": 0.0,
                "layout": "flat (--use-sim-policy-wrapper)" if params["sim_policy_wrapper"] else "nested",
                "failed_stage": None,
                "hint": None,
                "msg": f"check mode: would probe {endpoint}",
            }
        from groot_ops.probe import probe_server

        result = probe_server(
            params["host"],
            params["port"],
            embodiment=params["embodiment"],
            request_timeout_s=params["request_timeout_s"],
            startup_timeout_s=params["startup_timeout_s"],
            api_token=params["api_token"],
            sim_policy_wrapper=params["sim_policy_wrapper"],
            statistics=params["statistics"],
        )
        result["changed"] = False
        error = result.pop("error", None)
        if not result["ok"]:
            hint = f" (hint: {result['hint']})" if result.get("hint") else ""
            return {**result, "failed": True, "msg": f"policy server probe failed: {error}{hint}"}
        return result
