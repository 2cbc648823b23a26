# Imports the container hosts' connection plugin once, in ansible-playbook's main process.
from __future__ import annotations

DOCUMENTATION = r"""
name: groot_preload
type: aggregate
short_description: Import the connection plugins of the inventory's hosts once, before any task forks
description:
  - ansible-playbook runs every task of every host in a worker process forked from its main process. A
    plugin the main process never imported is imported again by each worker; the main process never
    loads connection plugins itself, so every task on a container host (C(community.docker.docker_api),
    whose Docker client takes about 0.2 s to import on a busy 2-core machine) pays that import again, even
    a C(set_fact) that never connects.
  - This callback loads the named connection plugins in the main process when the run starts, so every
    worker inherits them already imported. It prints nothing and changes no behaviour of any plugin.
  - A plugin that cannot be loaded (its collection is not installed) is skipped with a warning at -v.
  - Enabled in the repository's ansible.cfg (C(callbacks_enabled)).
options:
  connections:
    description: Connection plugins to load before the first task.
    type: list
    elements: str
    default: [community.docker.docker_api, ansible.builtin.ssh]
    ini:
      - section: groot_preload
        key: connections
    env:
      - name: GROOT_PRELOAD_CONNECTIONS
"""

from ansible.plugins.callback import CallbackBase  # noqa: E402  (after the docs, as in modules)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "groot_preload"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.loaded: list[str] = []

    def set_options(self, task_keys=None, var_options=None, direct=None) -> None:
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        self.preload(self.get_option("connections"))

    def preload(self, names) -> list[str]:
        """Load each connection plugin in this (the main) process; returns the names that loaded."""
        from ansible.plugins.loader import connection_loader

        for name in names or []:
            try:
                found = connection_loader.get(name, class_only=True)
            except Exception as exc:  # a missing collection must not stop the run
                self._display.vvv(f"groot_preload: {name} not loaded: {exc}")
                continue
            if found is None:
                self._display.vvv(f"groot_preload: {name} not found")
                continue
            self.loaded.append(name)
        return self.loaded
