"""Only the configured Hub is ever contacted: a log of every name resolution in the lab.

Every Python interpreter in the lab (the lab hosts' python3, which runs the Ansible modules there; the
training env in the trainer container, which runs the groot modules, the supervisor and torchrun) gets
a ``.pth`` file that installs a ``sys.addaudithook`` logging each name resolution (``socket.getaddrinfo``
and friends) to a file: a resolver that logs, one per process. The pipeline test's second ``site.yml``
(tests/e2e/test_lab_pipeline.py) runs with it installed on the provisioned lab and every logged name must
be a lab name (no dot: container names on the lab network) or an address; one run proves both that nothing
changes and that nothing outside the lab is resolved. huggingface_hub 2.4 without ``HF_ENDPOINT`` and
telemetry off asks huggingface.co first; the positive control (``control_lookups``) shows the log catches
exactly that.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager

from groot_ops.lab import layout
from groot_ops.lab.docker import container_running, docker

LOG = "/tmp/groot-ops-resolver.log"
TRAINER = "lab-ws-dm-workstation"
TRAINER_PYTHON = "/opt/groot-env/bin/python"
HOOK = f"""
import os, sys
def _groot_ops_resolver_log(event, args):
    if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
        try:
            with open({LOG!r}, "a") as handle:
                handle.write(f"{{os.getpid()}}\\t{{args[0]}}\\t{{' '.join(sys.argv[:2])[:160]}}\\n")
        except OSError:
            pass
sys.addaudithook(_groot_ops_resolver_log)
"""
MODULE = "groot_ops_resolver_log"


def _exec(container: str, *argv: str, stdin: bytes | None = None) -> str:
    return docker(["exec", *(["-i"] if stdin is not None else []), container, *argv], input_bytes=stdin)


def _install(container: str, python: str) -> str:
    site = _exec(container, python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    _exec(container, "sh", "-c", f"mkdir -p {site} && cat > {site}/{MODULE}.py", stdin=HOOK.encode())
    _exec(container, "sh", "-c", f"echo 'import {MODULE}' > {site}/{MODULE}.pth && : > {LOG}")
    return site


def _uninstall(container: str, site: str) -> None:
    docker(["exec", container, "rm", "-f", f"{site}/{MODULE}.py", f"{site}/{MODULE}.pth", LOG], check=False)


def _names(container: str) -> list[tuple[str, str]]:
    out = docker(["exec", container, "cat", LOG], check=False)
    rows = [line.split("\t") for line in out.splitlines() if line.count("\t") >= 1]
    return [(row[1], row[2] if len(row) > 2 else "") for row in rows]


def _outside(name: str) -> bool:
    """A name the lab's own network cannot answer: anything with a dot that is not an address."""
    try:
        ipaddress.ip_address(name)
        return False
    except ValueError:
        return "." in name and name != "localhost"


@contextmanager
def installed() -> Iterator[dict[str, str]]:
    """The log in the trainer and in every running lab host, for the duration of the block."""
    assert container_running(TRAINER), f"{TRAINER} is not running: the pipeline provisions it first"
    done = {TRAINER: _install(TRAINER, TRAINER_PYTHON)}
    try:
        for host in layout.HOSTS:
            if container_running(host.name):
                done[host.name] = _install(host.name, "python3")
        yield done
    finally:
        for container, site in done.items():
            _uninstall(container, site)


def outside_lookups(containers: dict[str, str]) -> dict[str, list[str]]:
    """Every logged name outside the lab, per container; asserts the trainer logged something at all."""
    seen = {container: _names(container) for container in containers}
    assert seen[TRAINER], "no lookup logged in the trainer: the hook did not run in the modules"
    return {
        container: sorted({f"{name} ({who})" for name, who in names if _outside(name)})
        for container, names in seen.items()
        if any(_outside(name) for name, _ in names)
    }


def control_lookups() -> list[str]:
    """Positive control: the names logged for huggingface_hub's lookup when nothing prevents it."""
    docker(["exec", TRAINER, "sh", "-c", f": > {LOG}"])
    probe = (
        "from huggingface_hub import HfApi; "
        "HfApi(endpoint='http://groot-ops-lab-hub:8080').list_models(limit=1).__next__"
    )
    docker(
        ["exec", "-e", "HF_HUB_DISABLE_TELEMETRY=0", TRAINER, TRAINER_PYTHON, "-c", probe + "()"], check=False
    )
    return [name for name, _ in _names(TRAINER)]
