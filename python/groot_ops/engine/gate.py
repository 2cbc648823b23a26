"""The container gate: the engine connection a play's container host uses, and whether its container exists.

Run on the controller at the start of every play on a container host (role ``container_gate``,
module ``groot_container_gate``): it makes sure the engine host's forward is alive (or makes it),
then asks the engine about the container through it. One local step per play instead of an SSH
round trip to the engine host for the lookup plus a new SSH connection for every later task.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from groot_ops.engine.api import DEFAULT_DOCKER_HOST, EngineError, container_state
from groot_ops.engine.forward import (
    DEFAULT_PERSIST_S,
    DEFAULT_REMOTE_SOCKET,
    ensure_forward,
    parse_ssh_url,
    split_ssh_args,
)


def _state_over_ssh(docker_host: str, container: str, ssh_args: Sequence[str]) -> dict[str, Any] | None:
    """Without a forward: ``docker container inspect`` on the engine host through OpenSSH."""
    engine = parse_ssh_url(docker_host)
    assert engine is not None
    argv = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", *ssh_args]
    argv += ["-p", str(engine.port)] if engine.port else []
    argv += ["-l", engine.user] if engine.user else []
    remote = shlex.join(["docker", "container", "inspect", "--format", "{{json .State}}", container])
    proc = subprocess.run([*argv, "--", engine.host, remote], capture_output=True, text=True, check=False)
    if proc.returncode == 0:
        return dict(json.loads(proc.stdout or "{}"))
    err = proc.stderr.strip()
    if "no such container" in err.lower() or "no such object" in err.lower():
        return None
    raise EngineError(
        f"cannot ask the Docker engine on {engine.label} about {container}: {err or proc.returncode}"
    )


def gate(
    container: str,
    docker_host: str | None,
    *,
    forward: bool = True,
    ssh_args: str | Sequence[str] | None = None,
    identity_file: str | None = None,
    socket_dir: str | Path | None = None,
    remote_socket: str | None = None,
    persist_s: int = DEFAULT_PERSIST_S,
) -> dict[str, Any]:
    """Keys: exists, running, status, docker_host (what the container's tasks connect to), source,
    forwarded, reused, engine, changed (always False)."""
    source = docker_host or os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST
    args = split_ssh_args(ssh_args) + (["-i", identity_file] if identity_file else [])
    if forward or parse_ssh_url(source) is None:
        conn = ensure_forward(
            source,
            ssh_args=args,
            socket_dir=socket_dir,
            remote_socket=remote_socket or DEFAULT_REMOTE_SOCKET,
            persist_s=persist_s,
        )
        state = container_state(conn["docker_host"], container)
    else:
        conn = {
            "changed": False,
            "docker_host": source,
            "source": source,
            "forwarded": False,
            "reused": False,
        }
        conn["engine"] = parse_ssh_url(source).label  # type: ignore[union-attr]
        state = _state_over_ssh(source, container, args)
    return {
        **conn,
        "changed": False,
        "container": container,
        "exists": state is not None,
        "running": bool(state and state.get("Running")),
        "status": (state or {}).get("Status"),
    }
