"""The lab's SSH engine hosts (lab-ws, lab-ws2, lab-spark) as containers of the lab-host image."""

from __future__ import annotations

import subprocess

from groot_ops.lab import layout
from groot_ops.lab.docker import DockerError, container_running, docker, remove_container
from groot_ops.lab.layout import LabHost, LabPaths
from groot_ops.lab.owner import CHECKOUT_LABEL, port_in_use


def host_run_args(paths: LabPaths, host: LabHost) -> list[str]:
    data = paths.host_data(host.name)
    return [
        "run", "-d", "--name", host.name, "--hostname", host.name,
        "--label", layout.LABEL,
        "--label", f"{CHECKOUT_LABEL}={paths.repo}",
        "--network", layout.EDGE_NETWORK,
        "-p", f"127.0.0.1:{host.ssh_port}:22",
        # The engine socket: containers the roles create are siblings on the same engine, so
        # every bind mount below is an engine-host path mounted at the same path.
        "-v", "/var/run/docker.sock:/var/run/docker.sock",
        "-v", f"{paths.authorized_keys}:/lab/authorized_keys:ro",
        "-v", f"{data}:{data}",
        "-v", f"{paths.git}:{paths.git}:ro",
        layout.HOST_IMAGE,
    ]  # fmt: skip


def start_host(paths: LabPaths, host: LabHost) -> bool:
    """Start one lab host; an existing running one is kept (its host key stays pinned)."""
    if container_running(host.name):
        return False
    remove_container(host.name)
    paths.host_data(host.name).mkdir(parents=True, exist_ok=True)
    # Only on the edge network: the hosts act through the engine socket, and keeping them off the
    # lab network leaves trainer names there unambiguous.
    try:
        docker(host_run_args(paths, host))
    except DockerError as exc:
        remove_container(host.name)
        raise port_in_use(str(exc), host.ssh_port) or exc from exc
    return True


def ssh_logins() -> dict[str, int]:
    """SSH logins each lab host's sshd has accepted since it started (sshd -e logs each one)."""
    counts = {}
    for host in layout.HOSTS:
        proc = subprocess.run(["docker", "logs", host.name], capture_output=True, text=True, check=False)
        counts[host.name] = (proc.stdout + proc.stderr).count("Accepted publickey")
    return counts
