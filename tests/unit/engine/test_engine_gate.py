"""The container gate's engine access: ssh:// URLs, the forward's command line and reuse, Engine API reads.

The forward itself (a real OpenSSH master against a real sshd) is exercised by the lab
(tests/e2e/test_engine_forward.py); here a real unix-socket HTTP server stands in for the engine.
"""

from __future__ import annotations

import json
import os
import socketserver
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from groot_ops.engine import api, forward, gate
from groot_ops.errors import ConfigError


class _Engine(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str) -> None:
        super().__init__(path, _Handler)
        self.containers: dict[str, dict] = {}
        self.paths: list[str] = []


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        if self.path == "/_ping":
            body, status = b"OK", 200
        elif self.path.startswith("/containers/") and self.path.endswith("/json"):
            name = self.path.split("/")[2]
            state = self.server.containers.get(name)  # type: ignore[attr-defined]
            body = json.dumps(
                {"State": state} if state else {"message": f"No such container: {name}"}
            ).encode()
            status = 200 if state else 404
        else:
            body, status = b"{}", 500
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def address_string(self) -> str:
        return "engine"

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[_Engine]:
    path = tmp_path / "engine.sock"
    server = _Engine(str(path))
    server.containers = {"dm-workstation": {"Running": True, "Status": "running"}}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _url(server: _Engine) -> str:
    return f"unix://{server.server_address}"


def test_ssh_urls_parse_and_other_schemes_have_nothing_to_forward() -> None:
    assert forward.parse_ssh_url("ssh://datamentors@192.168.1.205") == forward.SshEngine(
        "datamentors", "192.168.1.205", None
    )
    engine = forward.parse_ssh_url("ssh://root@lab-ws:22021")
    assert engine is not None and engine.label == "root@lab-ws:22021"
    assert forward.parse_ssh_url("unix:///var/run/docker.sock") is None
    assert forward.parse_ssh_url("") is None
    with pytest.raises(ConfigError, match="no host name"):
        forward.parse_ssh_url("ssh://")
    with pytest.raises(ConfigError, match="ssh://root@h:notaport"):
        forward.parse_ssh_url("ssh://root@h:notaport")


def test_the_forward_keeps_host_key_checking_strict_whatever_the_extra_arguments_say(tmp_path: Path) -> None:
    engine = forward.SshEngine("root", "lab-ws", 22021)
    paths = forward.forward_paths(engine, "/var/run/docker.sock", tmp_path)
    argv = forward.ssh_argv(
        engine, paths, ssh_args=forward.split_ssh_args("-F /x/config -o StrictHostKeyChecking=no")
    )
    # OpenSSH keeps the first value it is given for an option: ours come before any extra argument.
    assert argv.index("StrictHostKeyChecking=yes") < argv.index("StrictHostKeyChecking=no")
    assert "BatchMode=yes" in argv and "ControlMaster=yes" in argv
    assert argv[argv.index("-L") + 1] == f"{paths.socket}:/var/run/docker.sock"
    assert argv[-6:] == ["-p", "22021", "-l", "root", "--", "lab-ws"]


def test_socket_paths_are_per_target_and_short_enough_for_af_unix(tmp_path: Path) -> None:
    a = forward.forward_paths(forward.SshEngine("root", "lab-ws", 22021), "/var/run/docker.sock", tmp_path)
    b = forward.forward_paths(forward.SshEngine("root", "lab-ws2", 22022), "/var/run/docker.sock", tmp_path)
    assert a.socket != b.socket and a.socket.parent == tmp_path
    deep = tmp_path / ("d" * 120)
    c = forward.forward_paths(forward.SshEngine("root", "lab-ws", 22021), "/var/run/docker.sock", deep)
    assert len(str(c.control)) <= 90 and c.socket.name == a.socket.name


def test_engine_api_reads_a_container_and_a_missing_one(engine: _Engine) -> None:
    assert api.ping(_url(engine))
    assert api.container_state(_url(engine), "dm-workstation") == {"Running": True, "Status": "running"}
    assert api.container_state(_url(engine), "groot-server") is None


def test_an_engine_that_does_not_answer_is_named(tmp_path: Path) -> None:
    dead = f"unix://{tmp_path / 'nobody.sock'}"
    assert not api.ping(dead)
    with pytest.raises(api.EngineError, match=f"the Docker engine at {dead} does not answer"):
        api.container_state(dead, "x")
    with pytest.raises(api.EngineError, match="unix:// sockets"):
        api.container_state("https://engine:2376", "x")


def test_the_gate_looks_up_through_a_non_ssh_engine_unchanged(engine: _Engine) -> None:
    result = gate.gate("dm-workstation", _url(engine))
    assert result["exists"] and result["running"] and result["status"] == "running"
    assert result["docker_host"] == _url(engine) and not result["forwarded"]
    assert result["changed"] is False
    assert not gate.gate("groot-server", _url(engine))["exists"]


def test_a_live_forward_is_reused_without_a_new_connection(engine: _Engine, tmp_path: Path) -> None:
    url = "ssh://root@lab-ws:22021"
    paths = forward.forward_paths(forward.parse_ssh_url(url), "/var/run/docker.sock", tmp_path / "fw")  # type: ignore[arg-type]
    paths.socket.parent.mkdir(parents=True)
    os.symlink(engine.server_address, paths.socket)  # the local end of a forward made earlier
    # No ssh may be started: a missing binary would fail the call.
    result = gate.gate("dm-workstation", url, socket_dir=tmp_path / "fw", ssh_args="-F /nonexistent")
    assert result["reused"] and result["forwarded"] and result["exists"]
    assert result["docker_host"] == f"unix://{paths.socket}" and result["source"] == url
    assert result["engine"] == "root@lab-ws:22021"
    assert (tmp_path / "fw").stat().st_mode & 0o777 == 0o700


def test_a_refused_connection_names_the_engine_and_ssh_s_reason(tmp_path: Path) -> None:
    fake = tmp_path / "ssh"
    fake.write_text("#!/bin/sh\necho 'Host key verification failed.' >&2\nexit 255\n")
    fake.chmod(0o755)
    with pytest.raises(forward.ForwardError) as err:
        forward.ensure_forward("ssh://root@lab-ws:22021", socket_dir=tmp_path / "fw", ssh=str(fake))
    message = str(err.value)
    assert (
        "cannot reach the Docker engine on root@lab-ws:22021 over ssh (Host key verification failed.)"
        in message
    )
    # Nothing stale is left for the next attempt.
    assert not list((tmp_path / "fw").glob("*.sock")) and not list((tmp_path / "fw").glob("*.ctl"))
