"""What to do about ansible-playbook's own errors: the few an operator meets, each with its remedy.

ansible-playbook stops before any task for these, so there is no host, task or result to report:
only its message, which the summary shows with the advice found here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

_ORIGIN = re.compile(r"^Origin:\s*(?P<path>\S+?)(:\d+:\d+)?\s*$", re.MULTILINE)


def _origin(error: str, vault_files: Sequence[str]) -> str:
    # Ansible names the file only when it fails while loading it, not when it decrypts inventory vars.
    match = _ORIGIN.search(error)
    if match:
        return match["path"]
    if vault_files:
        return " / ".join(vault_files)
    return "a vault-encrypted file"


def find_vault_files(inventory: Path | None, extra_files: Sequence[str | Path] = ()) -> list[str]:
    """The vault-encrypted variable files a run reads: its inventory's group_vars/host_vars, its -e @FILEs."""
    candidates: list[Path] = [Path(p) for p in extra_files]
    if inventory is not None and inventory.is_dir():
        for sub in ("group_vars", "host_vars"):
            candidates += sorted(path for path in (inventory / sub).rglob("*") if path.is_file())
    found = []
    for path in candidates:
        try:
            with path.open("rb") as handle:
                if handle.read(14) == b"$ANSIBLE_VAULT":
                    found.append(str(path))
        except OSError:
            continue
    return found


def advice(error: str, *, vault_source: str | None = None, vault_files: Sequence[str] = ()) -> str | None:
    """Advice for a known error, or None; ``vault_source`` says where the vault password came from."""
    source = vault_source or "the vault password given"
    if "Decryption failed" in error:
        return (
            f"{source} does not decrypt {_origin(error, vault_files)}: pass the right one "
            "(--vault-password-file FILE or --ask-vault-pass); nothing ran."
        )
    if "no vault secrets found" in error:
        return (
            f"{_origin(error, vault_files)} is vault-encrypted and no vault password was given: pass "
            "--vault-password-file FILE or --ask-vault-pass; nothing ran."
        )
    return None
