"""Build one ansible-runner invocation from an operator request.

ansible-runner traps handled here (see ansible-practice.md): options given as kwargs are
persisted in ``env/`` and silently reused by later runs, so every run gets a fresh private data
dir and ``suppress_env_files=True``; runner disables host key checking unless
``ANSIBLE_HOST_KEY_CHECKING`` is set, so we set it; secrets never go into extravars: runner puts
them on ansible-playbook's command line as one JSON ``-e`` (visible in ``ps`` and written to the
``command`` artifact). So ``-e KEY=VALUE`` with a token-, secret- or password-like key (or a value
that looks like a Hugging Face token) is refused, and ``-e @FILE`` is handed to ansible-playbook as
that file's path, its contents never read here. Vault passwords are passed as a file path or
answered at the prompt in memory.
"""

from __future__ import annotations

import datetime as _dt
import itertools
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
# Name segments (split at anything but letters and digits) that make an extra var a secret.
_SECRET_SEGMENTS = frozenset(
    {"token", "secret", "secrets", "password", "passwd", "passphrase", "credential", "credentials", "apikey"}
)
_SECRET_PAIRS = (("api", "key"), ("private", "key"), ("access", "key"), ("auth", "key"))
# A Hugging Face user access token (hf_ + 30 or more letters and digits), whatever the key.
_HF_TOKEN_VALUE = re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")


def secret_like(key: str) -> bool:
    """True for a name that names a secret: ``vault_*``, ``*_token``, ``db_password``, ``api_key``."""
    segments = [part for part in re.split(r"[^a-z0-9]+", key.lower()) if part]
    if segments[:1] == ["vault"] or _SECRET_SEGMENTS.intersection(segments):
        return True
    return any(pair in itertools.pairwise(segments) for pair in _SECRET_PAIRS)


def _secret_paths(value: Any, path: str) -> list[str]:
    """Where in an extra var (nested mappings and lists included) a secret would reach the command line."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            where = f"{path}.{key}"
            found += [where] if secret_like(str(key)) else _secret_paths(inner, where)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _secret_paths(inner, f"{path}[{index}]")
    elif isinstance(value, str) and _HF_TOKEN_VALUE.search(value):
        found.append(path)
    return found


def refuse_secret_extravars(extravars: dict[str, Any]) -> None:
    """ConfigError naming every key of ``-e KEY=VALUE`` that would put a secret on argv."""
    offending: list[str] = []
    for key, value in extravars.items():
        offending += [key] if secret_like(key) else _secret_paths(value, key)
    if offending:
        raise ConfigError(
            f"refusing -e {', '.join(offending)}: a secret on the command line is visible in ps and in "
            "the run's artifacts; secrets come from the vault (-e @vault-file.yml passes a file, not its "
            "contents)"
        )


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
    # ``-e @FILE``: passed to ansible-playbook as paths; their contents never reach argv.
    extra_vars_files: list[str] = field(default_factory=list)
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
        refuse_secret_extravars(self.extravars)
        for path in self.extra_vars_files:
            if not Path(path).is_file():
                raise ConfigError(f"extra-vars file not found: {path}")


def parse_extra_args(pairs: list[str]) -> tuple[dict[str, Any], list[str]]:
    """``-e key=value`` (value parsed as a YAML scalar) and ``-e @file.yml`` (kept as an absolute path).

    A file is not opened: it may be vault-encrypted, and whatever it holds must reach ansible-playbook
    as a file, not as argv.
    """
    import yaml

    values: dict[str, Any] = {}
    files: list[str] = []
    for item in pairs:
        if item.startswith("@"):
            path = Path(item[1:]).expanduser()
            if not path.is_file():
                raise ConfigError(f"extra-vars file not found: {path}")
            files.append(str(path.resolve()))
            continue
        if "=" not in item:
            raise ConfigError(f"-e expects key=value or @file, got {item!r}")
        key, value = item.split("=", 1)
        values[key.strip()] = yaml.safe_load(value) if value else ""
    return values, files


def parse_extravars(pairs: list[str]) -> dict[str, Any]:
    """``-e key=value`` pairs only; ``@file`` goes through :func:`parse_extra_args`."""
    values, files = parse_extra_args(pairs)
    if files:
        raise ConfigError("-e @file is passed to ansible-playbook as a file: use parse_extra_args")
    return values


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
    # After the lab's files, so that an operator's file wins, as with ansible-playbook's own -e order.
    for path in request.extra_vars_files:
        cmdline += ["-e", shlex.quote(f"@{Path(path).resolve()}")]
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
    if (root / "callback_plugins").is_dir():
        # ansible-runner replaces ansible.cfg's callback_plugins with its own directory unless this is set
        # (it appends its own to it): keep the project's groot_progress callback.
        envvars["ANSIBLE_CALLBACK_PLUGINS"] = str(root / "callback_plugins")
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
