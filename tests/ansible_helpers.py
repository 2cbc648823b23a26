"""Run ansible-playbook / ansible / ansible-doc from tests the way an operator would.

Every call uses the repository's ``ansible.cfg`` (so ``library/``, ``module_utils/`` and ``roles/`` resolve),
the project virtualenv's executables, and returns the exit code, the output and the PLAY RECAP parsed per
host, so that tests can assert ``changed=0`` on a second run without scraping text themselves.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
VENV_PYTHON = Path(sys.executable)

_RECAP_LINE = re.compile(r"^(?P<host>\S+)\s*:\s*(?P<counts>(?:\w+=\d+\s*)+)$")


@dataclass
class AnsibleResult:
    rc: int
    stdout: str
    stderr: str
    recap: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def changed(self, host: str | None = None) -> int:
        """Total ``changed`` count (of one host, or of every host)."""
        hosts = [host] if host else list(self.recap)
        return sum(self.recap[h].get("changed", 0) for h in hosts)

    def failed(self, host: str | None = None) -> int:
        hosts = [host] if host else list(self.recap)
        return sum(self.recap[h].get("failed", 0) + self.recap[h].get("unreachable", 0) for h in hosts)

    def describe(self) -> str:
        return (
            f"rc={self.rc} recap={self.recap}\n--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"
        )


def parse_recap(text: str) -> dict[str, dict[str, int]]:
    """``{host: {"ok": n, "changed": n, ...}}`` from the PLAY RECAP section of ansible output."""
    recap: dict[str, dict[str, int]] = {}
    in_recap = False
    for raw in text.splitlines():
        line = re.sub(r"\x1b\[[0-9;]*m", "", raw).strip()
        if line.startswith("PLAY RECAP"):
            in_recap = True
            continue
        if not in_recap or not line:
            continue
        match = _RECAP_LINE.match(line)
        if match:
            counts = dict(pair.split("=") for pair in match.group("counts").split())
            recap[match.group("host")] = {k: int(v) for k, v in counts.items()}
    return recap


def ansible_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for ansible commands: repo config, venv first on PATH, plain output, own temp dirs."""
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
            "ANSIBLE_PYTHON_INTERPRETER": str(VENV_PYTHON),
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(REPO_ROOT / "python"), env.get("PYTHONPATH", "")) if p
            ),
        }
    )
    if extra:
        env.update(extra)
    return env


def _run(
    argv: Sequence[str], env: Mapping[str, str] | None, timeout: float, cwd: Path | None
) -> AnsibleResult:
    proc = subprocess.run(
        list(argv),
        cwd=str(cwd or REPO_ROOT),
        env=ansible_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return AnsibleResult(proc.returncode, proc.stdout, proc.stderr, parse_recap(proc.stdout))


def run_playbook(
    playbook: str | Path,
    *,
    inventory: str | Path | None = None,
    extra_vars: Mapping[str, object] | None = None,
    extra_vars_files: Sequence[str | Path] = (),
    check: bool = False,
    diff: bool = False,
    tags: str | None = None,
    limit: str | None = None,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    cwd: Path | None = None,
) -> AnsibleResult:
    """``ansible-playbook`` with the repo config; ``playbook`` relative to the repo root or absolute."""
    argv = [str(VENV_BIN / "ansible-playbook"), str(REPO_ROOT / playbook)]
    if inventory is not None:
        argv += ["-i", str(inventory)]
    if extra_vars:
        argv += ["-e", json.dumps(dict(extra_vars))]
    for path in extra_vars_files:
        argv += ["-e", f"@{path}"]
    if check:
        argv.append("--check")
    if diff:
        argv.append("--diff")
    if tags:
        argv += ["--tags", tags]
    if limit:
        argv += ["--limit", limit]
    argv += list(args)
    return _run(argv, env, timeout, cwd)


def run_adhoc(
    pattern: str,
    module: str,
    module_args: str | Mapping[str, object] = "",
    *,
    inventory: str | Path | None = None,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> AnsibleResult:
    """``ansible PATTERN -m MODULE -a ARGS`` (dict args are passed as JSON)."""
    argv = [str(VENV_BIN / "ansible"), pattern, "-m", module]
    if module_args:
        argv += ["-a", module_args if isinstance(module_args, str) else json.dumps(dict(module_args))]
    if inventory is not None:
        argv += ["-i", str(inventory)]
    argv += list(args)
    return _run(argv, env, timeout, None)


def write_local_inventory(
    path: Path, groups: Mapping[str, Sequence[str]], host_vars: Mapping[str, object] | None = None
) -> Path:
    """A YAML inventory where every host is this machine (``ansible_connection: local``, venv python)."""
    import yaml

    base = {"ansible_connection": "local", "ansible_python_interpreter": str(VENV_PYTHON)}
    base.update(host_vars or {})
    children = {group: {"hosts": {host: dict(base) for host in hosts}} for group, hosts in groups.items()}
    path.write_text(yaml.safe_dump({"all": {"children": children}}, sort_keys=False))
    return path
