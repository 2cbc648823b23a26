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
MODULE = "community.docker.docker_container"


def _container_command() -> str:
    for path in sorted((ROLE / "tasks").glob("*.yml")):
        for task in yaml.safe_load(path.read_text()) or []:
            if isinstance(task, dict) and MODULE in task and "command" in task[MODULE]:
                return task[MODULE]["command"]
    raise AssertionError(f"no {MODULE} task with a command under {ROLE / 'tasks'}")


def rendered_server_command(**overrides: Any) -> list[str]:
    """The container's argv with the role's defaults (and ``overrides``), as Ansible templates it."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    variables = {k: trust_as_template(v) if isinstance(v, str) else v for k, v in defaults.items()}
    variables.update(groot_server_deploy_id=DEPLOY_ID, **overrides)
    rendered = Templar(loader=DataLoader(), variables=variables).template(
        trust_as_template(_container_command())
    )
    if not isinstance(rendered, list):
        raise AssertionError(f"the role's command renders to {type(rendered).__name__}, not an argv list")
    return [str(part) for part in rendered]


def server_argv(command: list[str]) -> list[str]:
    """What run_gr00t_server.py's parser sees: the words after the script."""
    script = next(i for i, word in enumerate(command) if word.endswith("run_gr00t_server.py"))
    return command[script + 1 :]
