"""``groot-ops render RECIPE -i INVENTORY``: what every host would get, computed offline.

No host is contacted: the inventory, the playbooks and the roles are read by Ansible's own loaders, the
roles' module arguments are templated with each host's variables, and groot_ops' own functions (the
ones the modules call) say what would run. The result is reviewed before a run, and the checks in
:mod:`groot_ops.render.checks` hold it to what production needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from groot_ops.errors import ConfigError
from groot_ops.render import checks as render_checks
from groot_ops.render import hosts as render_hosts
from groot_ops.render.ansible_view import AnsibleView

GROUP_RENDERERS = (
    ("workstations", render_hosts.render_workstation),
    ("trainers", render_hosts.render_trainer),
    ("inference", render_hosts.render_inference),
)


def _is_lab(repo: Path, inventory: Path) -> bool:
    return inventory.resolve() == (repo / "inventory" / "lab").resolve()


def render(
    repo: Path, inventory: Path, recipe: str, *, extra_vars: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The render of one recipe on one inventory: per host what it gets, and the consistency checks."""
    view = AnsibleView(repo, inventory, {"recipe": recipe, **(extra_vars or {})})
    hosts_all = [h.name for h in view.inventory.get_hosts("all")]
    if not hosts_all:
        raise ConfigError(f"{inventory} defines no hosts")
    first = view.host_vars(hosts_all[0])
    known = sorted(view.template(first.get("groot_recipes", {}), first) or {})
    if recipe not in known:
        raise ConfigError(f"Unknown recipe {recipe}. Known recipes: {', '.join(known) or 'none'}")
    anchor = (view.group("trainers") or hosts_all)[0]
    anchor_vars = view.host_vars(anchor)
    pinned = {
        key: view.template(f"{{{{ groot_isaac_groot_{key} | default('') }}}}", anchor_vars)
        for key in ("repo_url", "ref", "commit")
    }
    rendered: dict[str, Any] = {}
    for group, renderer in GROUP_RENDERERS:
        for host in view.group(group):
            entry = rendered.setdefault(
                host, {"groups": [], "connection": render_hosts.connection(view, host)}
            )
            entry["groups"].append(group)
            try:
                entry.update(renderer(view, host))
            except ConfigError as exc:
                raise ConfigError(f"{host} ({group}): {exc}") from None
    production = not _is_lab(repo, inventory)
    found = []
    if production:
        found += render_checks.lab_leaks(rendered)
        found += render_checks.gpus(rendered)
    found += render_checks.interpreters(rendered)
    found += render_checks.commits(pinned, rendered)
    found += render_checks.required_variables(view)
    return {
        "recipe": recipe,
        "inventory": str(inventory),
        "production": production,
        "isaac_groot": pinned,
        "hosts": rendered,
        "checks": found,
        "ok": all(c["ok"] for c in found),
    }
