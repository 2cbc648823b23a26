"""The server command the ``groot_server`` role renders, evaluated by Ansible's own templating.

Used by the recorder (which records upstream ``ServerConfig``'s parse of it) and by CI tests (which hold
the role to the recorded command). The deploy id is a placeholder: it is a path, not a flag.
"""

from __future__ import annotations

from typing import Any

import yaml

from tests.ansible_helpers import REPO_ROOT

ROLE = REPO_ROOT / "roles" / "groot_server"
DEPLOY_ID = "<revision>"
# The container's command is the deploy plan's (groot_ops.deploy.server_command), built from the options
# the role passes to this module.
MODULE = "groot_server_state"


def _server_options() -> dict[str, Any]:
    for path in sorted((ROLE / "tasks").glob("*.yml")):
        for task in yaml.safe_load(path.read_text()) or []:
            if isinstance(task, dict) and "server" in (task.get(MODULE) or {}):
                return task[MODULE]["server"]
    raise AssertionError(f"no {MODULE} task with server options under {ROLE / 'tasks'}")


def rendered_server_command(**overrides: Any) -> list[str]:
    """The container's argv with the role's defaults (and ``overrides``), as the deploy plan makes it."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    from groot_ops.deploy import server_command

    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    variables = {k: trust_as_template(v) if isinstance(v, str) else v for k, v in defaults.items()}
    variables.update(overrides)
    options = {k: trust_as_template(v) if isinstance(v, str) else v for k, v in _server_options().items()}
    server = Templar(loader=DataLoader(), variables=variables).template(options)
    return server_command(DEPLOY_ID, server)


def server_argv(command: list[str]) -> list[str]:
    """What run_gr00t_server.py's parser sees: the words after the script."""
    script = next(i for i, word in enumerate(command) if word.endswith("run_gr00t_server.py"))
    return command[script + 1 :]
