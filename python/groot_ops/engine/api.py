"""The few Docker Engine API reads the container gate needs, over a unix socket or plain TCP.

The standard library is enough for a GET; no Docker SDK is needed on the controller for it.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.parse
from typing import Any

from groot_ops.errors import GrootOpsError

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"


class EngineError(GrootOpsError):
    """The engine could not be asked (not answering, refused, unexpected reply)."""


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def _connection(docker_host: str, timeout: float) -> http.client.HTTPConnection:
    url = urllib.parse.urlsplit(docker_host)
    if url.scheme == "unix":
        return _UnixConnection(url.path, timeout)
    if url.scheme in ("tcp", "http"):
        return http.client.HTTPConnection(url.hostname or "localhost", url.port or 2375, timeout=timeout)
    raise EngineError(
        f"docker host {docker_host}: the container gate reads engines over unix:// sockets (ssh:// ones are "
        "forwarded to one) or plain tcp://"
    )


def get(docker_host: str, path: str, *, timeout: float = 10.0) -> tuple[int, bytes]:
    """``GET path`` on the engine; returns the status and body. Transport failures raise EngineError."""
    conn = _connection(docker_host, timeout)
    try:
        conn.request("GET", path, headers={"Host": "docker"})
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as exc:
        raise EngineError(f"the Docker engine at {docker_host} does not answer: {exc}") from exc
    finally:
        conn.close()


def ping(docker_host: str, *, timeout: float = 5.0) -> bool:
    try:
        status, body = get(docker_host, "/_ping", timeout=timeout)
    except EngineError:
        return False
    return status == 200 and body.strip() == b"OK"


def container_state(docker_host: str, name: str, *, timeout: float = 10.0) -> dict[str, Any] | None:
    """The container's ``State`` (Running, Status, ...), or None when the engine has no such container."""
    status, body = get(docker_host, f"/containers/{urllib.parse.quote(name, safe='')}/json", timeout=timeout)
    if status == 404:
        return None
    if status != 200:
        raise EngineError(
            f"the Docker engine at {docker_host} answered {status} for container {name}: {body[:200]!r}"
        )
    try:
        info = json.loads(body)
    except ValueError as exc:
        raise EngineError(f"the Docker engine at {docker_host} sent no JSON for container {name}") from exc
    return dict(info.get("State") or {})
