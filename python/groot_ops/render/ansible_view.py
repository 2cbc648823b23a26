"""The inventory, the playbooks and their variables exactly as ``ansible-playbook`` would see them, offline.

Ansible's own objects do the work: the inventory plugins (the lab's ``constructed`` groups included),
``Playbook.load`` for the plays and their roles, and ``VariableManager.get_vars(play=, host=)`` for the
variable precedence (role defaults < inventory < play vars < role vars < extra vars). Nothing connects
to a host. Ansible reads its configuration when first imported, so this module sets ``ANSIBLE_CONFIG``
to the repository's ``ansible.cfg`` (roles path, module paths) before importing it; a process that
imported Ansible earlier with another configuration renders with that one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from groot_ops.errors import ConfigError

# Entry playbooks whose plays together are one site run.
SITE_PLAYBOOK = "playbooks/site.yml"


def _ansible(repo: Path, extra_vars: dict[str, Any]) -> dict[str, Any]:
    os.environ.setdefault("ANSIBLE_CONFIG", str(repo / "ansible.cfg"))
    from ansible import context
    from ansible.module_utils.common.collections import ImmutableDict

    # Inventory plugins with use_extra_vars (the lab's constructed groups) read them from the CLI args.
    context.CLIARGS = ImmutableDict(extra_vars=(json.dumps(extra_vars),))
    from ansible.plugins.loader import init_plugin_loader

    init_plugin_loader([])
    from ansible.errors import AnsibleError
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.playbook import Playbook
    from ansible.template import Templar, trust_as_template
    from ansible.vars.manager import VariableManager

    return {
        "AnsibleError": AnsibleError,
        "InventoryManager": InventoryManager,
        "DataLoader": DataLoader,
        "Playbook": Playbook,
        "Templar": Templar,
        "trust_as_template": trust_as_template,
        "VariableManager": VariableManager,
    }


@dataclass
class PlayInfo:
    name: str
    pattern: str
    roles: list[str]
    hosts: list[str]
    obj: Any = field(repr=False, default=None)


class AnsibleView:
    """One inventory and recipe, loaded once; per play and host the variables Ansible would use."""

    def __init__(self, repo: Path, inventory: Path, extra_vars: dict[str, Any]) -> None:
        self.repo = repo
        self.inventory_path = inventory
        self.extra_vars = dict(extra_vars)
        self._a = _ansible(repo, self.extra_vars)
        self.loader = self._a["DataLoader"]()
        self.loader.set_basedir(str(repo / "playbooks"))
        self.inventory = self._a["InventoryManager"](loader=self.loader, sources=[str(inventory)])
        self.variables = self._a["VariableManager"](loader=self.loader, inventory=self.inventory)
        try:
            playbook = self._a["Playbook"].load(
                str(repo / SITE_PLAYBOOK), variable_manager=self.variables, loader=self.loader
            )
        except self._a["AnsibleError"] as exc:
            raise ConfigError(f"cannot load {SITE_PLAYBOOK}: {exc}") from None
        self.plays: list[PlayInfo] = []
        for play in playbook.get_plays():
            pattern = play.hosts if isinstance(play.hosts, str) else ",".join(play.hosts)
            hosts = [h.name for h in self.inventory.get_hosts(pattern)]
            roles = [role.get_name() for role in play.get_roles()]
            self.plays.append(PlayInfo(play.get_name(), pattern, roles, hosts, play))

    def group(self, name: str) -> list[str]:
        return [h.name for h in self.inventory.get_hosts(name)] if name in self.inventory.groups else []

    def play_with_role(self, role: str, host: str) -> PlayInfo | None:
        for play in self.plays:
            if role in play.roles and host in play.hosts:
                return play
        return None

    def host_vars(self, host: str, play: PlayInfo | None = None) -> dict[str, Any]:
        """Every variable of ``host`` in ``play`` (role defaults and vars of the play's roles included)."""
        obj = self.inventory.get_host(host)
        if obj is None:
            raise ConfigError(f"host {host} is not in {self.inventory_path}")
        found = self.variables.get_vars(play=play.obj if play else None, host=obj)
        found = dict(found)
        found.setdefault("playbook_dir", str(self.repo / "playbooks"))
        if play is not None:
            found["ansible_play_hosts_all"] = list(play.hosts)
            found["ansible_play_hosts"] = list(play.hosts)
        found.setdefault("ansible_check_mode", False)
        found.setdefault("ansible_playbook_python", "python3")
        return found

    def trust(self, value: Any) -> Any:
        """Mark values read from the repository's own files as templates (Ansible 2.19 trusts only those)."""
        trust = self._a["trust_as_template"]
        if isinstance(value, str):
            return trust(value)
        if isinstance(value, dict):
            return {k: self.trust(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.trust(v) for v in value]
        return value

    def template(self, value: Any, variables: dict[str, Any]) -> Any:
        """Template ``value`` (strings from the repository's files) with ``variables``; undefined names raise
        :class:`ConfigError` naming them."""
        templar = self._a["Templar"](loader=self.loader, variables=variables)
        try:
            return _plain(templar.template(self.trust(value)))
        except self._a["AnsibleError"] as exc:
            raise ConfigError(" ".join(str(exc).split())) from None


def _plain(value: Any) -> Any:
    """Ansible's tagged containers and scalars as plain JSON-able Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)
