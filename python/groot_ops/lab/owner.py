"""Which checkout a lab container belongs to: the lab's names and ports are global on the engine.

Every container of a lab mounts something under its checkout's ``.lab/`` (the hosts their data
roots and the authorized key, the Hub its storage, the roles' containers their workspaces), so the
mounts tell whose lab it is, also for labs made before the checkout label existed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from groot_ops.errors import GrootOpsError
from groot_ops.lab import layout

# Set on the lab's own containers at creation; the mounts say the same for the others.
CHECKOUT_LABEL = "io.groot-ops.lab.checkout"


class LabInUseError(GrootOpsError):
    """Another checkout's lab holds the names and ports this lab needs."""


def lab_root_of(info: dict[str, Any]) -> Path | None:
    """The ``.lab`` directory a container belongs to (from its label, else its mounts), or None."""
    labelled = ((info.get("Config") or {}).get("Labels") or {}).get(CHECKOUT_LABEL)
    if labelled:
        return Path(labelled) / ".lab"
    for mount in info.get("Mounts") or []:
        source = Path(str(mount.get("Source", "")))
        parts = source.parts
        if ".lab" in parts:
            return Path(*parts[: parts.index(".lab") + 1])
    return None


@dataclass(frozen=True)
class Foreign:
    container: str
    lab_root: Path

    @property
    def checkout(self) -> Path:
        return self.lab_root.parent


def foreign(infos: dict[str, dict[str, Any]], own_root: Path) -> list[Foreign]:
    """Containers of another checkout's lab that still exists on disk, from ``{name: inspect}``."""
    found = []
    for name, info in sorted(infos.items()):
        root = lab_root_of(info)
        if root is not None and root != own_root and root.parent.exists():
            found.append(Foreign(name, root))
    return found


def in_use_message(found: list[Foreign]) -> str:
    checkouts = sorted({str(item.checkout) for item in found})
    names = ", ".join(item.container for item in found)
    ports = (
        ", ".join(f"127.0.0.1:{h.ssh_port}" for h in layout.HOSTS) + f", 127.0.0.1:{layout.HUB_LOCAL_PORT}"
    )
    where = checkouts[0] if len(checkouts) == 1 else " and ".join(checkouts)
    return (
        f"a lab from another checkout ({where}) is up and holds the lab's container names and ports "
        f"({names}; {ports}). Take it down there first: `make -C {checkouts[0]} lab-down` "
        f"(or `cd {checkouts[0]} && .venv/bin/python -m groot_ops lab down`), then run this again."
    )


def port_in_use(error: str, port: int) -> LabInUseError | None:
    """The engine's refusal to publish a lab port that something outside the lab holds, explained."""
    if "port is already allocated" in error or "address already in use" in error:
        return LabInUseError(
            f"port 127.0.0.1:{port}, which the lab publishes, is taken by something that is not this lab "
            f"(find it: `ss -ltnp 'sport = :{port}'`, `docker ps --filter publish={port}`); free it and "
            "run this again"
        )
    return None
