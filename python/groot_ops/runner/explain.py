"""What to do about ansible-playbook's own errors: the few an operator meets, each with its remedy.

ansible-playbook stops before any task for these, so there is no host, task or result to report:
only its message, which the summary shows with the advice found here.
"""

from __future__ import annotations

import re

_ORIGIN = re.compile(r"^Origin:\s*(?P<path>\S+?)(:\d+:\d+)?\s*$", re.MULTILINE)


def _origin(error: str) -> str:
    match = _ORIGIN.search(error)
    return match["path"] if match else "a vault-encrypted file"


def advice(error: str, *, vault_source: str | None = None) -> str | None:
    """Advice for a known error, or None; ``vault_source`` says where the vault password came from."""
    source = vault_source or "the vault password given"
    if "Decryption failed" in error:
        return (
            f"{source} does not decrypt {_origin(error)}: pass the right one (--vault-password-file FILE "
            "or --ask-vault-pass); nothing ran."
        )
    if "no vault secrets found" in error:
        return (
            f"{_origin(error)} is vault-encrypted and no vault password was given: pass "
            "--vault-password-file FILE or --ask-vault-pass; nothing ran."
        )
    return None
