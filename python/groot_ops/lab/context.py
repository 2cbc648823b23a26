"""What every Ansible process aimed at the lab inventory needs besides the inventory itself.

One place for it, because two callers start such processes: ``groot-ops lab run`` (plain
``ansible-playbook``) and the operator CLI (``groot-ops plan|run|status`` on ansible-runner), which
adopts this context whenever its inventory is the lab's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from groot_ops.errors import GrootOpsError
from groot_ops.lab.layout import LabPaths

# The lab has no GPU: the steps that need one are tagged `gpu` by their roles.
LAB_SKIP_TAGS: tuple[str, ...] = ("gpu",)


@dataclass(frozen=True)
class LabContext:
    env: dict[str, str]
    # Vault-encrypted variable files (-e @file): the lab vault is generated per lab, never committed.
    extra_vars_files: tuple[Path, ...]
    vault_password_file: Path
    skip_tags: tuple[str, ...]


def lab_inventory(repo: Path) -> Path:
    return (repo / "inventory" / "lab").resolve()


def is_lab_inventory(repo: Path, inventory: str | Path | None) -> bool:
    """True for the default inventory (none given) and for any path that resolves to the lab's."""
    lab = lab_inventory(repo)
    target = Path(inventory).resolve() if inventory is not None else lab
    return target == lab and lab.is_dir()


def lab_context(repo: Path, *, require_up: bool = True) -> LabContext:
    """The context of an up lab; a clear error when ``groot-ops lab up`` has not run."""
    paths = LabPaths(repo)
    if require_up and not (paths.vault_file.is_file() and paths.vault_password_file.is_file()):
        raise GrootOpsError(
            f"the lab is not up ({paths.vault_file} is missing): run `groot-ops lab up` (or `make lab`) first"
        )
    return LabContext(
        env={
            # paramiko (docker_api over ssh://) reads only ~/.ssh: the lab HOME holds the pinned
            # known_hosts and the ssh config of the lab hosts.
            "HOME": str(paths.home),
            "ANSIBLE_HOST_KEY_CHECKING": "True",
        },
        extra_vars_files=(paths.vault_file,),
        vault_password_file=paths.vault_password_file,
        skip_tags=LAB_SKIP_TAGS,
    )
