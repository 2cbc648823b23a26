"""The lab vault: a fresh lab-only Hub token, encrypted with a password generated at ``lab up``.

Both live under ``.lab/`` (never committed); the plaintext token only passes through a pipe to
``ansible-vault`` and into the lab Hub's own token file, never a command line.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from groot_ops import atomic
from groot_ops.errors import GrootOpsError
from groot_ops.lab.layout import LabPaths

TOKEN_VARIABLE = "vault_hf_token"


def _ansible_vault() -> str:
    # The venv's ansible-vault sits next to the interpreter running us.
    candidate = Path(sys.executable).parent / "ansible-vault"
    return str(candidate) if candidate.exists() else "ansible-vault"


def ensure_vault(paths: LabPaths) -> str:
    """Create password, token and encrypted vault once; returns the token (for seeding)."""
    if paths.vault_file.exists() and paths.vault_password_file.exists() and paths.hub_tokens.exists():
        return paths.hub_tokens.read_text().strip()
    paths.root.mkdir(parents=True, exist_ok=True)
    atomic.write_text(paths.vault_password_file, secrets.token_urlsafe(32) + "\n")
    os.chmod(paths.vault_password_file, 0o600)
    token = "hf_lab_" + secrets.token_hex(16)
    atomic.write_text(paths.hub_tokens, token + "\n")
    os.chmod(paths.hub_tokens, 0o600)
    plaintext = f"---\n# Lab-only secret: valid on the lab Hub and nowhere else.\n{TOKEN_VARIABLE}: {token}\n"
    proc = subprocess.run(
        [_ansible_vault(), "encrypt", "--vault-password-file", str(paths.vault_password_file),
         "--output", str(paths.vault_file), "-"],
        input=plaintext.encode(),
        capture_output=True,
        check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise GrootOpsError(f"ansible-vault encrypt failed: {proc.stderr.decode(errors='replace').strip()}")
    os.chmod(paths.vault_file, 0o600)
    return token
