"""The engine forward against the lab's real sshd: one connection reused, host keys still pinned.

Each lab host's sshd logs every login it accepts (``sshd -e``), so the connections a step opens are
counted on the server side, not inferred from the client.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from groot_ops.engine import api, forward
from groot_ops.lab import layout
from groot_ops.lab.hosts import ssh_logins
from groot_ops.lab.layout import LabPaths

pytestmark = [pytest.mark.lab, pytest.mark.docker, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
PATHS = LabPaths(REPO)
HOST = layout.HOSTS[0]
URL = f"ssh://root@{HOST.name}:{HOST.ssh_port}"


def test_one_connection_serves_every_engine_call_and_is_reused(lab: dict[str, Any], tmp_path: Path) -> None:
    sockets = tmp_path / "fw"
    before = ssh_logins()[HOST.name]
    try:
        made = forward.ensure_forward(URL, ssh_args=f"-F {PATHS.ssh_config}", socket_dir=sockets)
        assert made["forwarded"] and not made["reused"]
        socket = Path(made["socket"])
        assert stat.S_IMODE(socket.stat().st_mode) == 0o600, "the engine's socket must be its owner's only"
        assert stat.S_IMODE(sockets.stat().st_mode) == 0o700
        for _ in range(10):
            assert api.container_state(made["docker_host"], HOST.name)["Running"]
        again = forward.ensure_forward(URL, ssh_args=f"-F {PATHS.ssh_config}", socket_dir=sockets)
        assert again["reused"] and again["docker_host"] == made["docker_host"]
        # Eleven engine calls and a second ensure: one login on the engine host.
        assert ssh_logins()[HOST.name] - before == 1
    finally:
        forward.stop_forwards(sockets)


def test_a_wrong_host_key_is_refused_whatever_the_ssh_config_says(
    lab: dict[str, Any], tmp_path: Path
) -> None:
    spark_key = PATHS.known_hosts.read_text().splitlines()[-1].split(" ", 1)[1]
    wrong = tmp_path / "known_hosts"
    wrong.write_text(f"{HOST.name},[127.0.0.1]:{HOST.ssh_port} {spark_key}\n")
    # An extra argument that asks to skip checking loses against the forward's own options.
    args = f"-F {PATHS.ssh_config} -o UserKnownHostsFile={wrong} -o StrictHostKeyChecking=no"
    with pytest.raises(forward.ForwardError, match=r"\(Host key verification failed\.\)"):
        forward.ensure_forward(URL, ssh_args=args, socket_dir=tmp_path / "fw")
    assert not list((tmp_path / "fw").glob("*.sock"))
