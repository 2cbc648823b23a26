"""One OpenSSH connection per engine host, its Docker socket forwarded to a local unix socket.

community.docker's ``docker_api`` connection over ``ssh://`` opens a new SSH connection (paramiko)
and a new ``docker system dial-stdio`` on the engine host for every task. Pointing the connection
at a local socket that an OpenSSH master forwards to the engine's socket instead makes each task a
channel on one established connection, in production as in the lab.

Trust is OpenSSH's, as strict as before: ``StrictHostKeyChecking=yes`` and ``BatchMode=yes`` come
first on the command line, so no ssh config or extra argument can loosen them; keys and known_hosts
are the operator's (or the lab's ``-F`` config). The local socket is 0600 in a 0700 directory:
it is the engine's socket, so only its owner may reach it. The master exits by itself after
``persist_s`` seconds without a task (``ControlPersist``), or when the engine host goes away.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shlex
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from groot_ops.engine.api import ping
from groot_ops.errors import ConfigError, GrootOpsError

DEFAULT_REMOTE_SOCKET = "/var/run/docker.sock"
DEFAULT_PERSIST_S = 600
# AF_UNIX paths hold 107 bytes; OpenSSH appends a 17-byte suffix to the control path while creating it.
_MAX_SOCKET_PATH = 90


class ForwardError(GrootOpsError):
    """The forward could not be made; the message carries ssh's own reason."""


@dataclass(frozen=True)
class SshEngine:
    """The SSH side of an ``ssh://[user@]host[:port]`` docker host."""

    user: str | None
    host: str
    port: int | None

    @property
    def label(self) -> str:
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"{user}{self.host}{port}"


def parse_ssh_url(docker_host: str) -> SshEngine | None:
    """The engine of an ``ssh://`` docker host; None for any other scheme (nothing to forward)."""
    url = urllib.parse.urlsplit(docker_host or "")
    if url.scheme != "ssh":
        return None
    if not url.hostname:
        raise ConfigError(f"docker host {docker_host!r}: no host name in the ssh:// URL")
    try:
        port = url.port
    except ValueError as exc:
        raise ConfigError(f"docker host {docker_host!r}: {exc}") from exc
    return SshEngine(user=url.username or None, host=url.hostname, port=port)


@dataclass(frozen=True)
class ForwardPaths:
    socket: Path  # the local end of the forward: what tasks connect to
    control: Path  # the OpenSSH master's control socket
    lock: Path
    log: Path  # ssh's own messages (why it failed, why it exited)


def default_socket_dir() -> Path:
    return Path.home() / ".cache" / "groot-ops" / "engines"


def forward_paths(engine: SshEngine, remote_socket: str, socket_dir: Path | None = None) -> ForwardPaths:
    """Paths of one forward, named by a digest of its target (short enough for AF_UNIX)."""
    name = hashlib.sha256(f"{engine.label}|{remote_socket}".encode()).hexdigest()[:16]
    base = Path(socket_dir) if socket_dir else default_socket_dir()
    if len(str(base / f"{name}.ctl")) > _MAX_SOCKET_PATH:
        # A deep checkout: the sockets go to a per-user directory under the temp dir instead.
        base = Path(tempfile.gettempdir()) / f"groot-ops-{os.getuid()}" / "engines"
    return ForwardPaths(
        socket=base / f"{name}.sock",
        control=base / f"{name}.ctl",
        lock=base / f"{name}.lock",
        log=base / f"{name}.log",
    )


def ssh_argv(
    engine: SshEngine,
    paths: ForwardPaths,
    *,
    ssh_args: Sequence[str] = (),
    remote_socket: str = DEFAULT_REMOTE_SOCKET,
    persist_s: int = DEFAULT_PERSIST_S,
    ssh: str = "ssh",
) -> list[str]:
    """The master's command line: our options first (OpenSSH keeps the first value of each option)."""
    argv = [
        ssh,
        "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=yes",
        "-o", "ExitOnForwardFailure=yes",
        "-o", "ControlMaster=yes",
        "-o", f"ControlPath={paths.control}",
        "-o", f"ControlPersist={int(persist_s)}",
        "-o", "ServerAliveInterval=15",
        "-o", "ServerAliveCountMax=3",
        "-o", "StreamLocalBindUnlink=yes",
        "-o", "StreamLocalBindMask=0177",
        "-o", "ConnectTimeout=15",
        *ssh_args,
        "-L", f"{paths.socket}:{remote_socket}",
        "-f", "-N",
    ]  # fmt: skip
    if engine.port:
        argv += ["-p", str(engine.port)]
    if engine.user:
        argv += ["-l", engine.user]
    return [*argv, "--", engine.host]


def split_ssh_args(ssh_args: str | Sequence[str] | None) -> list[str]:
    """Ansible's ``ansible_ssh_common_args`` is one string; a list is taken as it is."""
    if not ssh_args:
        return []
    return shlex.split(ssh_args) if isinstance(ssh_args, str) else [str(arg) for arg in ssh_args]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    # Two plays' hosts on one engine host ask at the same time: one makes the forward, the other reuses it.
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _prepare_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _stop_master(engine: SshEngine, paths: ForwardPaths, ssh: str) -> None:
    if paths.control.exists():
        subprocess.run(
            [ssh, "-o", f"ControlPath={paths.control}", "-O", "exit", engine.host],
            capture_output=True, check=False, timeout=10,
        )  # fmt: skip
    for stale in (paths.socket, paths.control):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()


def _ssh_reason(log: Path) -> str:
    lines = (
        [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
        if log.exists()
        else []
    )
    return lines[-1] if lines else "no message from ssh"


def ensure_forward(
    docker_host: str,
    *,
    ssh_args: str | Sequence[str] | None = None,
    socket_dir: str | Path | None = None,
    remote_socket: str | None = None,
    persist_s: int = DEFAULT_PERSIST_S,
    timeout_s: float = 30.0,
    ssh: str = "ssh",
) -> dict[str, Any]:
    """Make sure a live forward of an ``ssh://`` docker host exists; returns where tasks should connect.

    Keys: ``docker_host`` (``unix://`` of the local socket, or the input unchanged when it is not
    ``ssh://``), ``forwarded``, ``reused`` (an earlier run's or play's forward still answered),
    ``engine``, ``socket``, ``source`` (the input), ``changed`` (always False: a connection, not state).
    """
    engine = parse_ssh_url(docker_host)
    result: dict[str, Any] = {"changed": False, "source": docker_host, "forwarded": False, "reused": False}
    if engine is None:
        return {**result, "docker_host": docker_host, "engine": None, "socket": None}
    remote = remote_socket or DEFAULT_REMOTE_SOCKET
    paths = forward_paths(engine, remote, Path(socket_dir).expanduser() if socket_dir else None)
    local = f"unix://{paths.socket}"
    result.update(docker_host=local, engine=engine.label, socket=str(paths.socket), forwarded=True)
    _prepare_dir(paths.socket.parent)
    with _locked(paths.lock):
        if paths.socket.exists() and ping(local, timeout=5.0):
            return {**result, "reused": True}
        # A master left by a dead connection (or none): start clean.
        _stop_master(engine, paths, ssh)
        argv = ssh_argv(
            engine,
            paths,
            ssh_args=split_ssh_args(ssh_args),
            remote_socket=remote,
            persist_s=persist_s,
            ssh=ssh,
        )
        with paths.log.open("w") as log:
            # A session of its own and no pipes: the master outlives this process and holds none of its fds.
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
            )
            try:
                rc = proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                rc = None
        if rc != 0:
            why = f"no answer within {timeout_s:.0f}s" if rc is None else _ssh_reason(paths.log)
            _stop_master(engine, paths, ssh)
            raise ForwardError(
                f"cannot reach the Docker engine on {engine.label} over ssh ({why}); "
                f"command: {shlex.join(argv)}"
            )
        deadline = time.monotonic() + 10.0
        while not ping(local, timeout=5.0):
            if time.monotonic() > deadline:
                reason = _ssh_reason(paths.log)
                _stop_master(engine, paths, ssh)
                raise ForwardError(
                    f"ssh to {engine.label} is up but its Docker socket {remote} does not answer through the "
                    f"forward ({reason}); is the login user allowed to use the engine (group docker)?"
                )
            time.sleep(0.1)
    return result


def stop_forwards(socket_dir: str | Path, *, ssh: str = "ssh") -> list[str]:
    """Stop every master whose control socket is in ``socket_dir`` (``lab down``); returns the sockets."""
    stopped = []
    base = Path(socket_dir)
    for control in sorted(base.glob("*.ctl")) if base.is_dir() else []:
        subprocess.run(
            [ssh, "-o", f"ControlPath={control}", "-O", "exit", "engine"],
            capture_output=True, check=False, timeout=10,
        )  # fmt: skip
        stopped.append(str(control.with_suffix(".sock")))
    return stopped
