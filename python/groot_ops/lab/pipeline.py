"""``groot-ops lab run``: ``site.yml`` (or one stage) against the lab inventory, with a summary."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from groot_ops.errors import GrootOpsError
from groot_ops.lab.context import lab_context
from groot_ops.lab.layout import LabPaths

_RECAP = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)"
)


@dataclass
class PlaybookRun:
    playbook: str
    returncode: int
    seconds: float
    log: Path
    recap: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def changed_total(self) -> int:
        return sum(host["changed"] for host in self.recap.values())


def parse_recap(text: str) -> dict[str, dict[str, int]]:
    """Per-host counters from the PLAY RECAP of an ``ansible-playbook`` output."""
    recap: dict[str, dict[str, int]] = {}
    in_recap = False
    for line in text.splitlines():
        if line.startswith("PLAY RECAP"):
            in_recap = True
            continue
        match = _RECAP.match(line.strip()) if in_recap else None
        if match:
            recap[match["host"]] = {k: int(v) for k, v in match.groupdict().items() if k != "host"}
    return recap


_TASK = re.compile(r"^TASK \[(?P<task>.*)\] \**$")
_CHANGED = re.compile(r"^changed: \[(?P<host>[^\]]+)\]")


def changed_tasks(text: str) -> list[str]:
    """``host: task`` for every change an ``ansible-playbook`` output reports (idempotence reports)."""
    found: list[str] = []
    task = ""
    for line in text.splitlines():
        if match := _TASK.match(line):
            task = match["task"]
        elif match := _CHANGED.match(line):
            found.append(f"{match['host']}: {task}")
    return found


def lab_env(repo: Path) -> dict[str, str]:
    """Environment of every Ansible process in the lab."""
    env = dict(os.environ)
    bindir = str(Path(sys.executable).parent)
    env.update(lab_context(repo, require_up=False).env)
    env.update(
        {
            "ANSIBLE_CONFIG": str(repo / "ansible.cfg"),
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_NOCOLOR": "1",
            "PATH": f"{bindir}:{env.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def playbook_argv(
    repo: Path, playbook: str, *, recipe: str, extra: Sequence[str] = (), check: bool = False
) -> list[str]:
    context = lab_context(repo, require_up=False)
    argv = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        str(repo / "playbooks" / playbook),
        "-i", str(repo / "inventory" / "lab"),
        "-e", f"recipe={recipe}",
    ]  # fmt: skip
    for path in context.extra_vars_files:
        argv += ["-e", f"@{path}"]
    argv += ["--vault-password-file", str(context.vault_password_file)]
    argv += ["--skip-tags", ",".join(context.skip_tags)]
    if check:
        argv += ["--check", "--diff"]
    return [*argv, *extra]


def run_playbook(
    repo: Path,
    playbook: str,
    *,
    recipe: str,
    extra: Sequence[str] = (),
    check: bool = False,
    echo: bool = False,
    timeout_s: float | None = None,
) -> PlaybookRun:
    paths = LabPaths(repo)
    if not paths.vault_file.exists():
        raise GrootOpsError("the lab is not up (no .lab/vault.yml): run `groot-ops lab up` first")
    paths.logs.mkdir(parents=True, exist_ok=True)
    log = paths.logs / f"{time.strftime('%Y%m%dT%H%M%S')}-{Path(playbook).stem}-{recipe}.log"
    argv = playbook_argv(repo, playbook, recipe=recipe, extra=extra, check=check)
    started = time.monotonic()
    chunks: list[str] = []
    with log.open("w") as handle:
        proc = subprocess.Popen(
            argv, cwd=repo, env=lab_env(repo), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert proc.stdout is not None
        # A watchdog rather than wait(timeout=): the loop below only ends when output does.
        timer = threading.Timer(timeout_s, proc.kill) if timeout_s else None
        if timer is not None:
            timer.start()
        try:
            for line in proc.stdout:
                handle.write(line)
                chunks.append(line)
                if echo:
                    sys.stdout.write(line)
            proc.wait()
        finally:
            if timer is not None:
                timer.cancel()
    output = "".join(chunks)
    return PlaybookRun(
        playbook=playbook,
        returncode=proc.returncode,
        seconds=round(time.monotonic() - started, 1),
        log=log,
        recap=parse_recap(output),
    )
