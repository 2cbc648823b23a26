"""groot_ops.probe against the real stand-in server process, a silent socket and a wrong-shape server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import msgpack
import numpy as np
import pytest
import zmq

from groot_ops.cli.main import main as cli_main
from groot_ops.probe import _decode, _encode, probe_server, request
from tests.standins.model_fixture import STANDIN_ROOT, write_model_dir

SERVER = STANDIN_ROOT / "gr00t" / "eval" / "run_gr00t_server.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(model: Path, port: int, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(SERVER), "--model-path", str(model), "--embodiment-tag", "UNITREE_G1",
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.terminate()
    output, _ = process.communicate(timeout=10)
    return output


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_model_dir(tmp_path_factory.mktemp("model") / "checkpoint-2")


@pytest.fixture(scope="module")
def server(model_dir: Path) -> Iterator[int]:
    port = free_port()
    process = start_server(model_dir, port)
    yield port
    stop(process)


def test_healthy_server_passes_every_stage(server: int) -> None:
    result = probe_server("127.0.0.1", server, startup_timeout_s=30, request_timeout_s=5)
    assert result["ok"], result
    assert [s["name"] for s in result["stages"]] == ["ping", "get_modality_config", "get_action"]
    assert all(s["ok"] and s["seconds"] >= 0 for s in result["stages"])
    assert result["changed"] is False


def test_bad_observation_is_answered_with_an_error_and_the_server_keeps_serving(server: int) -> None:
    probe_server("127.0.0.1", server, startup_timeout_s=30)
    bad = {
        "video.ego_view": np.zeros((1, 1, 8, 8, 3), np.uint8),
        "state.left_arm": np.zeros((1, 1, 6), np.float32),
    }
    with pytest.raises(Exception, match=r"error: observation is missing 'state\.left_leg'"):
        request("127.0.0.1", server, "get_action", {"observation": bad}, timeout_s=5)
    assert request("127.0.0.1", server, "ping", timeout_s=5)["status"] == "ok"


def test_action_reply_is_absolute_with_arms_relative_to_state(server: int) -> None:
    from groot_ops.probe import EMBODIMENTS, canned_observation

    observation = canned_observation(EMBODIMENTS["unitree_g1"])
    shifted = dict(observation, **{"state.left_arm": np.full((1, 1, 7), 0.5, np.float32)})
    base, _ = request("127.0.0.1", server, "get_action", {"observation": observation}, timeout_s=5)
    moved, _ = request("127.0.0.1", server, "get_action", {"observation": shifted}, timeout_s=5)
    assert base["left_arm"].shape == (1, 30, 7) and base["navigate_command"].shape == (1, 30, 3)
    # the arm state enters the network too, so only check that arm actions moved with the arm state
    assert not np.allclose(base["left_arm"], moved["left_arm"])


def test_slow_loading_server_is_waited_for(model_dir: Path) -> None:
    port = free_port()
    process = start_server(model_dir, port, {"GROOT_STANDIN_SERVER_DELAY_S": "2"})
    try:
        result = probe_server(
            "127.0.0.1", port, startup_timeout_s=30, request_timeout_s=1, retry_interval_s=0.2
        )
    finally:
        output = stop(process)
    assert result["ok"], (result, output)
    assert result["stages"][0]["seconds"] >= 1.5


def test_server_refuses_model_dir_missing_a_required_file(model_dir: Path, tmp_path: Path) -> None:
    broken = write_model_dir(tmp_path / "broken")
    (broken / "statistics.json").unlink()
    process = start_server(broken, free_port())
    output, _ = process.communicate(timeout=30)
    assert process.returncode != 0
    assert "missing required files: statistics.json" in output


def test_server_refuses_model_dir_missing_a_shard(tmp_path: Path) -> None:
    broken = write_model_dir(tmp_path / "broken")
    (broken / "model-00001-of-00001.safetensors").unlink()
    process = start_server(broken, free_port())
    output, _ = process.communicate(timeout=30)
    assert process.returncode != 0 and "model-00001-of-00001.safetensors" in output


def test_silent_socket_fails_at_the_deadline() -> None:
    with socket.socket() as listener:  # accepts TCP connections, never speaks ZMQ
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        started = time.monotonic()
        result = probe_server(
            "127.0.0.1", port, startup_timeout_s=1.5, request_timeout_s=0.5, retry_interval_s=0.2
        )
        elapsed = time.monotonic() - started
    assert not result["ok"]
    assert result["stages"][-1]["name"] == "ping" and "no reply" in result["error"]
    assert result["attempts"] >= 2
    assert elapsed < 4


def fake_server(port: int, replies: dict[str, object], stop_event: threading.Event) -> None:
    context = zmq.Context.instance()
    rep = context.socket(zmq.REP)
    rep.setsockopt(zmq.LINGER, 0)
    rep.bind(f"tcp://127.0.0.1:{port}")
    try:
        while not stop_event.is_set():
            if rep.poll(100):
                message = msgpack.unpackb(rep.recv(), object_hook=_decode, raw=False)
                rep.send(msgpack.packb(replies[message["endpoint"]], default=_encode, use_bin_type=True))
    finally:
        rep.close(linger=0)


@pytest.fixture
def fake() -> Iterator[callable]:
    stop_event = threading.Event()
    threads = []

    def start(replies: dict[str, object]) -> int:
        port = free_port()
        thread = threading.Thread(target=fake_server, args=(port, replies, stop_event), daemon=True)
        thread.start()
        threads.append(thread)
        return port

    yield start
    stop_event.set()
    for thread in threads:
        thread.join(timeout=5)


STATE_KEYS = ["left_leg", "right_leg", "waist", "left_arm", "right_arm", "left_hand", "right_hand"]
WIDTHS = {
    "left_arm": 7,
    "right_arm": 7,
    "left_hand": 1,
    "right_hand": 1,
    "waist": 3,
    "base_height_command": 1,
    "navigate_command": 3,
}
MODALITY_OK = {"state": {"modality_keys": STATE_KEYS}, "action": {"modality_keys": list(WIDTHS)}}


def test_wrong_action_shape_fails_naming_the_group(fake) -> None:
    actions = {k: np.zeros((1, 30, w), np.float32) for k, w in WIDTHS.items()}
    actions["waist"] = np.zeros((1, 16, 3), np.float32)  # an N1.5-style horizon
    port = fake({"ping": {"status": "ok"}, "get_modality_config": MODALITY_OK, "get_action": [actions, {}]})
    result = probe_server("127.0.0.1", port, startup_timeout_s=5, request_timeout_s=2)
    assert not result["ok"]
    assert result["stages"][-1]["name"] == "get_action"
    assert "'waist' has shape (1, 16, 3), expected (1, 30, 3)" in result["error"]


def test_wrong_modality_keys_fail_before_get_action(fake) -> None:
    config = {**MODALITY_OK, "state": {"modality_keys": ["left_arm", "right_arm"]}}
    port = fake({"ping": {"status": "ok"}, "get_modality_config": config})
    result = probe_server("127.0.0.1", port, startup_timeout_s=5, request_timeout_s=2)
    assert not result["ok"] and result["stages"][-1]["name"] == "get_modality_config"
    assert "state keys" in result["error"]


def test_wrong_group_width_fails(fake) -> None:
    config = {**MODALITY_OK, "action": {**MODALITY_OK["action"], "dims": {**WIDTHS, "waist": 4}}}
    port = fake({"ping": {"status": "ok"}, "get_modality_config": config})
    result = probe_server("127.0.0.1", port, startup_timeout_s=5, request_timeout_s=2)
    assert not result["ok"] and "widths {'waist': 4}" in result["error"]


def test_cli_exit_codes(server: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["probe", "127.0.0.1", str(server), "--json"]) == 0
    assert '"ok": true' in capsys.readouterr().out
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        code = cli_main(
            ["probe", "127.0.0.1", str(port), "--startup-timeout", "1", "--request-timeout", "0.5"]
        )
    assert code == 1
    assert "unhealthy: ping failed" in capsys.readouterr().out


def test_kill_stops_the_server(model_dir: Path) -> None:
    port = free_port()
    process = start_server(model_dir, port)
    try:
        assert probe_server("127.0.0.1", port, startup_timeout_s=30)["ok"]
        assert request("127.0.0.1", port, "kill", timeout_s=5)["status"] == "ok"
        assert process.wait(timeout=10) == 0
    finally:
        stop(process)
