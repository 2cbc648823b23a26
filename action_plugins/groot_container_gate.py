# groot_container_gate in the controller's Ansible worker (groot_ops.controller_action says why); the
# forward and the lookup are groot_ops.engine.gate.gate. Documentation: library/groot_container_gate.py.
from __future__ import annotations

from typing import Any, ClassVar

from groot_ops.controller_action import ControllerAction


class ActionModule(ControllerAction):
    ARGUMENT_SPEC: ClassVar[dict[str, dict[str, Any]]] = {
        "container": {"type": "str", "required": True},
        "docker_host": {"type": "str", "default": ""},
        "forward": {"type": "bool", "default": True},
        "ssh_args": {"type": "str", "default": ""},
        "identity_file": {"type": "path"},
        "socket_dir": {"type": "path"},
        "remote_socket": {"type": "str", "default": ""},
        "persist_s": {"type": "int", "default": 600},
    }

    def work(self, params: dict[str, Any], *, check: bool) -> dict[str, Any]:
        # The same in check mode: a forward is a connection of the controller, and the lookup only reads.
        from groot_ops.engine.gate import gate

        return gate(
            params["container"],
            params["docker_host"] or None,
            forward=params["forward"],
            ssh_args=params["ssh_args"],
            identity_file=params["identity_file"],
            socket_dir=params["socket_dir"],
            remote_socket=params["remote_socket"] or None,
            persist_s=params["persist_s"],
        )
