"""The lab's SSH trust: one controller key pair, host keys read from each container, pinned.

Host keys are collected with ``docker exec`` from the container that generated them, never by
ssh-keyscan (trust on first use), and host key checking stays on everywhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterable

from groot_ops import atomic
from groot_ops.errors import GrootOpsError
from groot_ops.lab.docker import exec_read
from groot_ops.lab.layout import LabHost, LabPaths


def ensure_key_pair(paths: LabPaths) -> bool:
    """Generate the controller's lab key once; returns True when it was created."""
    paths.ssh_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(paths.ssh_dir, 0o700)
    if paths.private_key.exists():
        return False
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "groot-ops-lab", "-f", str(paths.private_key)],
        check=True,
    )
    pub = paths.private_key.with_suffix(".pub").read_text()
    atomic.write_text(paths.authorized_keys, pub)
    return True


def read_host_key(host: LabHost, *, timeout_s: float = 30.0) -> str:
    """The ed25519 public host key the container generated at start (waits for the entrypoint)."""
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        try:
            key = exec_read(host.name, "/etc/ssh/ssh_host_ed25519_key.pub").strip()
        except GrootOpsError as exc:
            last = str(exc)
            key = ""
        if key.startswith("ssh-ed25519 "):
            return " ".join(key.split()[:2])
        time.sleep(0.3)
    raise GrootOpsError(f"lab host {host.name}: no host key after {timeout_s:.0f}s ({last})")


def known_hosts_text(entries: Iterable[tuple[LabHost, str]]) -> str:
    # Two names per key: the alias (OpenSSH, via HostKeyAlias) and [127.0.0.1]:port (paramiko,
    # which ignores HostKeyAlias and looks hosts up by address and port).
    lines = []
    for host, key in entries:
        lines.append(f"{host.name},[127.0.0.1]:{host.ssh_port} {key}")
    return "\n".join(lines) + "\n"


def ssh_config_text(paths: LabPaths, hosts: Iterable[LabHost]) -> str:
    blocks = ["# Written by `groot-ops lab up`; the lab's hosts, pinned keys, nothing else.\n"]
    for host in hosts:
        blocks.append(
            f"Host {host.name}\n"
            f"  HostName 127.0.0.1\n"
            f"  Port {host.ssh_port}\n"
            f"  User root\n"
            f"  IdentityFile {paths.private_key}\n"
            f"  IdentitiesOnly yes\n"
            f"  HostKeyAlias {host.name}\n"
            f"  UserKnownHostsFile {paths.known_hosts}\n"
            f"  StrictHostKeyChecking yes\n"
            f"  ControlMaster auto\n"
            f"  ControlPath {paths.root}/cp-%C\n"
            f"  ControlPersist 120s\n"
        )
    return "\n".join(blocks)


def write_trust(paths: LabPaths, entries: list[tuple[LabHost, str]]) -> None:
    """known_hosts + ssh config, and the same files under the lab HOME for paramiko."""
    atomic.write_text(paths.known_hosts, known_hosts_text(entries))
    config = ssh_config_text(paths, [host for host, _ in entries])
    atomic.write_text(paths.ssh_config, config)
    home_ssh = paths.home / ".ssh"
    home_ssh.mkdir(parents=True, exist_ok=True)
    os.chmod(home_ssh, 0o700)
    atomic.write_text(home_ssh / "config", config)
    shutil.copyfile(paths.known_hosts, home_ssh / "known_hosts")
    for path in (paths.ssh_config, home_ssh / "config"):
        os.chmod(path, 0o600)


def wait_for_ssh(paths: LabPaths, host: LabHost, *, timeout_s: float = 60.0) -> None:
    """Log in for real (key auth, pinned host key) until sshd answers."""
    deadline = time.monotonic() + timeout_s
    err = ""
    while time.monotonic() < deadline:
        proc = subprocess.run(
            [
                "ssh",
                "-F",
                str(paths.ssh_config),
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=5",
                "-o",
                "ControlMaster=no",
                host.name,
                "true",
            ],
            capture_output=True,
            check=False,
        )
        if proc.returncode == 0:
            return
        err = proc.stderr.decode(errors="replace").strip()
        time.sleep(0.5)
    raise GrootOpsError(f"lab host {host.name}: ssh on 127.0.0.1:{host.ssh_port} not answering: {err}")
