"""A thin, typed wrapper over the docker CLI (the lab needs nothing the CLI cannot do)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from typing import Any

from groot_ops.errors import GrootOpsError


class DockerError(GrootOpsError):
    """A docker command failed; the message carries the command and its stderr."""


def docker(args: Sequence[str], *, check: bool = True, input_bytes: bytes | None = None) -> str:
    argv = ["docker", *args]
    try:
        proc = subprocess.run(argv, input=input_bytes, capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise DockerError("docker CLI not found; run `make docker` (tests/lab/ensure-docker.sh)") from exc
    if check and proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()
        raise DockerError(f"`{' '.join(argv[:4])} ...` failed (exit {proc.returncode}): {err}")
    return proc.stdout.decode(errors="replace")


def engine_answers() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0
    except FileNotFoundError:
        return False


def inspect(kind: str, name: str) -> dict[str, Any] | None:
    out = subprocess.run(["docker", kind, "inspect", name], capture_output=True, check=False)
    if out.returncode != 0:
        return None
    data = json.loads(out.stdout or b"[]")
    return data[0] if data else None


def container_running(name: str) -> bool:
    info = inspect("container", name)
    return bool(info and info["State"]["Running"])


def remove_container(name: str) -> bool:
    if inspect("container", name) is None:
        return False
    docker(["rm", "-f", "-v", name])
    return True


def containers_with_label(label: str) -> list[str]:
    out = docker(["ps", "-a", "--filter", f"label={label}", "--format", "{{.Names}}"])
    return [line for line in out.splitlines() if line]


def ensure_network(name: str, *, internal: bool) -> bool:
    if inspect("network", name) is not None:
        return False
    args = ["network", "create", "--label", "io.groot-ops.lab=1"]
    if internal:
        args.append("--internal")
    docker([*args, name])
    return True


def remove_network(name: str) -> bool:
    info = inspect("network", name)
    if info is None:
        return False
    # Containers the roles started on the lab network (dm-workstation, groot-server) go with it.
    for cid in (info.get("Containers") or {}).values():
        docker(["rm", "-f", "-v", cid["Name"]], check=False)
    docker(["network", "rm", name])
    return True


def exec_read(container: str, path: str) -> str:
    return docker(["exec", container, "cat", path])
