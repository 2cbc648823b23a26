"""Build one ansible-runner invocation from an operator request.

ansible-runner traps handled here (see ansible-practice.md): options given as kwargs are
persisted in ``env/`` and silently reused by later runs, so every run gets a fresh private data
dir and ``suppress_env_files=True``; runner disables host key checking unless
``ANSIBLE_HOST_KEY_CHECKING`` is set, so we set it; secrets never go into extravars (they would
end up in the ``command`` artifact) — vault passwords are passed as a file path or answered at
the prompt in memory.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from groot_ops.checkout import repo_root
from groot_ops.errors import ConfigError

__all__ = ["STAGES", "RunRequest", "parse_extravars", "repo_root", "runner_kwargs"]

STAGES: tuple[str, ...] = (
    "site",
    "preflight",
    "provision",
    "datasets",
    "train",
    "publish",
    "deploy",
    "cleanup",
    "status",
)

_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
# A vault prompt as printed by ansible-playbook --ask-vault-pass.
VAULT_PROMPT = r"^Vault password( \([^)]*\))?:\s*$"


@dataclass
class RunRequest:
    stage: str
    recipe: str | None
    inventory: str | None = None
    check: bool = False
    diff: bool = False
    tags: str | None = None
    skip_tags: str | None = None
    limit: str | None = None
    extravars: dict[str, Any] = field(default_factory=dict)
    vault_password_file: str | None = None
    vault_password: str | None = field(default=None, repr=False)
    verbosity: int = 0
    state_dir: Path | None = None

    def validate(self, root: Path) -> None:
        if self.stage not in STAGES:
            raise ConfigError(f"unknown stage {self.stage!r}; known: {', '.join(STAGES)}")
        if not (root / "playbooks" / f"{self.stage}.yml").is_file():
            raise ConfigError(f"playbook playbooks/{self.stage}.yml not found under {root}")
        if self.vault_password_file and not Path(self.vault_password_file).is_file():
            raise ConfigError(f"vault password file not found: {self.vault_password_file}")
        for key in self.extravars:
            if key.startswith("vault_"):
                raise ConfigError(
                    f"refusing -e {key}=...: secrets come from the vault, never from the command line"
                )


def parse_extravars(pairs: list[str]) -> dict[str, Any]:
    """``-e key=value`` (value parsed as YAML scalar) or ``-e @file.yml``."""
    import yaml

    result: dict[str, Any] = {}
    for item in pairs:
        if item.startswith("@"):
            path = Path(item[1:])
            if not path.is_file():
                raise ConfigError(f"extra-vars file not found: {path}")
            loaded = yaml.safe_load(path.read_text()) or {}
            if not isinstance(loaded, dict):
                raise ConfigError(f"extra-vars file {path} must hold a mapping")
            result.update(loaded)
            continue
        if "=" not in item:
            raise ConfigError(f"-e expects key=value or @file, got {item!r}")
        key, value = item.split("=", 1)
        result[key.strip()] = yaml.safe_load(value) if value else ""
    return result


def new_run_dir(state_dir: Path, stage: str, recipe: str | None) -> Path:
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    name = _SAFE_NAME.sub("_", f"{stamp}-{stage}-{recipe or 'all'}")
    run_dir = state_dir / "runs" / name
    run_dir.mkdir(parents=True, exist_ok=False)
    os.chmod(run_dir, 0o700)
    return run_dir


def default_state_dir(root: Path) -> Path:
    return Path(os.environ.get("GROOT_OPS_STATE_DIR", root / ".state")).resolve()


def _skip_tags(requested: str | None, adopted: tuple[str, ...]) -> str | None:
    tags = [t for t in (requested or "").split(",") if t.strip()]
    tags += [t for t in adopted if t not in tags]
    return ",".join(tags) or None


def vault_source(request: RunRequest, root: Path) -> str | None:
    """Where the run's vault password came from, in words (for the advice on a decryption failure)."""
    from groot_ops.lab.context import is_lab_inventory
    from groot_ops.lab.layout import LabPaths

    if request.vault_password is not None:
        return "the password typed at --ask-vault-pass"
    if request.vault_password_file:
        return f"the vault password file {request.vault_password_file}"
    if is_lab_inventory(root, request.inventory):
        # The lab's vault and password are made together; a mismatch means they must be made again.
        return (
            f"the lab's generated password ({LabPaths(root).vault_password_file}; `make lab-down` then "
            "`make lab` makes a new pair)"
        )
    return None


def runner_kwargs(request: RunRequest, root: Path, run_dir: Path) -> dict[str, Any]:
    """Keyword arguments for ``ansible_runner.run`` (event handlers are added by the caller).

    Aimed at the lab inventory, the run adopts the lab's context (its HOME for paramiko, its
    generated vault and password file, ``--skip-tags gpu``) exactly as ``groot-ops lab run`` does;
    an operator's own ``--vault-password-file``/``--ask-vault-pass`` still wins.
    """
    from groot_ops.lab.context import is_lab_inventory, lab_context

    request.validate(root)
    extravars = dict(request.extravars)
    if request.recipe:
        extravars["recipe"] = request.recipe
    lab = lab_context(root) if is_lab_inventory(root, request.inventory) else None
    cmdline: list[str] = []
    if request.check:
        cmdline.append("--check")
    if request.diff:
        cmdline.append("--diff")
    if lab is not None:
        for path in lab.extra_vars_files:
            cmdline += ["-e", shlex.quote(f"@{path}")]
    vault_file = request.vault_password_file
    if vault_file is None and request.vault_password is None and lab is not None:
        vault_file = str(lab.vault_password_file)
    if vault_file:
        cmdline += ["--vault-password-file", shlex.quote(str(Path(vault_file).resolve()))]
    passwords: dict[str, str] = {}
    if request.vault_password is not None:
        cmdline.append("--ask-vault-pass")
        passwords[VAULT_PROMPT] = request.vault_password
    inventory = request.inventory or str(root / "inventory" / "lab")
    envvars = {
        "ANSIBLE_CONFIG": str(root / "ansible.cfg"),
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_FORCE_COLOR": "False",
        "ANSIBLE_NOCOLOR": "True",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
    }
    if lab is not None:
        envvars.update(lab.env)
    kwargs: dict[str, Any] = {
        "private_data_dir": str(run_dir),
        "project_dir": str(root),
        "playbook": str(root / "playbooks" / f"{request.stage}.yml"),
        "inventory": str(Path(inventory).resolve()),
        "extravars": extravars,
        "envvars": envvars,
        "cmdline": " ".join(cmdline) if cmdline else None,
        "limit": request.limit,
        "tags": request.tags,
        "skip_tags": _skip_tags(request.skip_tags, lab.skip_tags if lab is not None else ()),
        "verbosity": request.verbosity,
        "suppress_env_files": True,
        "quiet": True,
        "ident": "run",
        "rotate_artifacts": 0,
    }
    if passwords:
        kwargs["passwords"] = passwords
    # The CLI may run from a virtualenv that is not activated: find its ansible-playbook first.
    # (ansible-runner's ``binary`` would switch it to raw mode and drop the playbook argument.)
    beside = Path(sys.executable).parent / "ansible-playbook"
    if beside.is_file():
        envvars["PATH"] = f"{beside.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {k: v for k, v in kwargs.items() if v is not None}
