"""groot_ops.probe against the recorded replies of upstream's real server, the stand-in server process,
a silent socket and servers that answer wrongly.

The recorded bytes (tests/fixtures/upstream/server, from tests/conformance/recorders/server.py) are what
upstream's run_gr00t_server.py answered; a replay server sends them back, byte for byte.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest
import zmq

from groot_ops.cli.main import main as cli_main
from groot_ops.probe import probe_server
from tests.conformance import server_fixtures
from tests.conformance.server_fixtures import exchange, signature
from tests.standins.model_fixture import STANDIN_ROOT, write_model_dir
from tests.unit.modules.harness import run_action

SERVER = STANDIN_ROOT / "gr00t" / "eval" / "run_gr00t_server.py"
STAGES = ["ping", "get_modality_config", "get_action", "reset"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------------------------------------
# a server that answers recorded (or edited) reply bytes per endpoint and keeps what it was sent


class Replay:
    def __init__(self, replies: dict[str, bytes]) -> None:
        self.replies = replies
        self.requests: dict[str, bytes] = {}
        self.port = free_port()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        rep = zmq.Context.instance().socket(zmq.REP)
        rep.setsockopt(zmq.LINGER, 0)
        rep.bind(f"tcp://127.0.0.1:{self.port}")
        try:
            while not self._stop.is_set():
                if rep.poll(50):
                    raw = rep.recv()
                    endpoint = msgpack.unpackb(raw).get("endpoint", "get_action")
                    self.requests[endpoint] = raw
                    rep.send(self.replies[endpoint])
        finally:
            rep.close(linger=0)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@pytest.fixture
def replay() -> Iterator[Callable[[dict[str, bytes]], Replay]]:
    started: list[Replay] = []

    def start(replies: dict[str, bytes]) -> Replay:
        started.append(Replay(replies))
        return started[-1]

    yield start
    for server in started:
        server.close()


def recorded(mode: str, **overrides: bytes) -> dict[str, bytes]:
    """The real server's replies for ``mode`` by endpoint (strict's where the mode recorded none)."""

    def reply(name: str) -> bytes:
        found = [e for e in server_fixtures.exchanges(server=mode) if e.name == name]
        return (found or [exchange("strict", name)])[0].reply

    replies = {name: reply(name) for name in STAGES}
    return {**replies, **overrides}


def edited_modality_config(edit: Callable[[dict[str, Any]], None]) -> bytes:
    config = msgpack.unpackb(exchange("strict", "get_modality_config").reply)
    edit(config)
    return msgpack.packb(config)


def probe(port: int, **kwargs: Any) -> dict[str, Any]:
    return probe_server("127.0.0.1", port, startup_timeout_s=5, request_timeout_s=2, **kwargs)


# ---------------------------------------------------------------------------------------------------
# the real server's recorded replies


@pytest.mark.parametrize(
    ("mode", "sim"), [("strict", False), ("sim", True), ("no_strict", False), ("sim_no_strict", True)]
)
def test_probe_passes_on_the_real_servers_replies(replay, mode: str, sim: bool) -> None:
    result = probe(replay(recorded(mode)).port, sim_policy_wrapper=sim)
    assert result["ok"], result
    assert [s["name"] for s in result["stages"]] == STAGES
    assert result["layout"] == ("flat (--use-sim-policy-wrapper)" if sim else "nested")
    assert "7 state / 7 action groups, horizon 30" in result["stages"][1]["detail"]


def _accepted_shape(raw: bytes) -> Any:
    """A request's structure with the image's height and width left out (any size is accepted)."""
    text = repr(signature(raw))
    return re.sub(r"ndarray uint8 \((\d+), (\d+), \d+, \d+, 3\)", r"ndarray uint8 (\1, \2, H, W, 3)", text)


@pytest.mark.parametrize(("mode", "sim"), [("strict", False), ("sim", True)])
def test_probe_sends_the_observation_layout_the_real_server_accepted(replay, mode: str, sim: bool) -> None:
    server = replay(recorded(mode))
    assert probe(server.port, sim_policy_wrapper=sim)["ok"]
    accepted = exchange(mode, "get_action").request
    assert _accepted_shape(server.requests["get_action"]) == _accepted_shape(accepted)
    for endpoint in ("ping", "get_modality_config", "reset"):  # as upstream's PolicyClient sends them
        assert signature(server.requests[endpoint]) == signature(exchange("strict", endpoint).request), (
            endpoint
        )


@pytest.mark.parametrize(
    ("mode", "refused", "sim", "flag_hint"),
    [
        ("strict", "error_flat_observation", True, "sim_policy_wrapper=false"),
        ("sim", "error_nested_observation", False, "sim_policy_wrapper=true"),
        ("no_strict", "error_flat_observation", True, "sim_policy_wrapper=false"),
    ],
)
def test_a_refused_layout_names_the_stage_the_answer_and_the_flag(
    replay, mode: str, refused: str, sim: bool, flag_hint: str
) -> None:
    answer = exchange(mode, refused).reply
    result = probe(replay(recorded(mode, get_action=answer)).port, sim_policy_wrapper=sim)
    assert not result["ok"] and result["failed_stage"] == "get_action"
    error = msgpack.unpackb(answer)["error"]
    assert error in result["error"] and error in result["stages"][-1]["reply"]
    assert flag_hint in result["hint"] and "--use-sim-policy-wrapper" in result["hint"]


def test_a_modality_config_without_upstreams_encoding_fails(replay) -> None:
    keys = ["left_leg", "right_leg", "waist", "left_arm", "right_arm", "left_hand", "right_hand"]
    plain = msgpack.packb({"state": {"modality_keys": keys, "dims": {"waist": 3}}})
    result = probe(replay(recorded("strict", get_modality_config=plain)).port)
    assert result["failed_stage"] == "get_modality_config"
    assert "not a ModalityConfig" in result["error"] or "'video' is missing" in result["error"]


def test_other_groups_fail_naming_both(replay) -> None:
    def swap(config: dict[str, Any]) -> None:
        keys = config["state"]["as_json"]["modality_keys"]
        keys[0], keys[1] = keys[1], keys[0]

    result = probe(replay(recorded("strict", get_modality_config=edited_modality_config(swap))).port)
    assert result["failed_stage"] == "get_modality_config"
    assert (
        "state groups ['right_leg', 'left_leg'," in result["error"] and "(keys and order)" in result["error"]
    )


def test_an_n17_horizon_fails(replay) -> None:
    def fifty(config: dict[str, Any]) -> None:
        config["action"]["as_json"]["delta_indices"] = list(range(50))

    result = probe(replay(recorded("strict", get_modality_config=edited_modality_config(fifty))).port)
    assert result["failed_stage"] == "get_modality_config" and "action horizon 50" in result["error"]


def _edited_actions(edit: Callable[[dict[str, Any]], None]) -> bytes:
    from groot_ops import policy_wire

    actions, info = policy_wire.unpack(exchange("strict", "get_action").reply)
    edit(actions)
    return policy_wire.pack([actions, info])


def _with_nan(value: Any) -> Any:
    value = value.copy()
    value[0, 0, 0] = float("nan")
    return value


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda a: a.update(waist=a["waist"][:, :16]),
            "'waist' is float32(1, 16, 3), expected float32(1, 30, 3)",
        ),
        (lambda a: a.update(waist=a["waist"].astype("float64")), "'waist' is float64(1, 30, 3)"),
        (lambda a: a.pop("navigate_command"), "no action group 'navigate_command'"),
        (lambda a: a.update(left_arm=_with_nan(a["left_arm"])), "'left_arm' contains non-finite values"),
    ],
)
def test_a_wrong_action_reply_fails_naming_the_group(replay, edit, message: str) -> None:
    result = probe(replay(recorded("strict", get_action=_edited_actions(edit))).port)
    assert result["failed_stage"] == "get_action" and message in result["error"], result


def test_sim_keys_expected_under_the_wrapper(replay) -> None:
    """A nested reply to a probe in sim mode is a wrong reply: the wrapper answers action.<group>."""
    result = probe(
        replay(recorded("sim", get_action=exchange("strict", "get_action").reply)).port,
        sim_policy_wrapper=True,
    )
    assert result["failed_stage"] == "get_action" and "no action group 'action.left_arm'" in result["error"]
    assert "runs without --use-sim-policy-wrapper" in result["hint"]
    result = probe(replay(recorded("strict", get_action=exchange("sim", "get_action").reply)).port)
    assert "no action group 'left_arm'" in result["error"] and "runs with --use-sim" in result["hint"]


def test_a_server_that_answers_an_error_to_ping_fails_at_once(replay) -> None:
    unauthorized = msgpack.packb({"error": "Unauthorized: Invalid API token"})
    started = time.monotonic()
    result = probe_server(
        "127.0.0.1", replay({"ping": unauthorized}).port, startup_timeout_s=30, request_timeout_s=2
    )
    assert time.monotonic() - started < 5 and result["attempts"] == 1
    assert result["failed_stage"] == "ping" and "Unauthorized: Invalid API token" in result["error"]


def test_an_unreadable_reply_is_reported(replay) -> None:
    result = probe(replay(recorded("strict", reset=b"\xc1")).port)
    assert result["failed_stage"] == "reset" and "unreadable reply (1 bytes)" in result["error"]


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
    assert not result["ok"] and result["failed_stage"] == "ping"
    assert "no reply" in result["error"] and "gave up after" in result["error"]
    assert result["attempts"] >= 2
    assert elapsed < 4


# ---------------------------------------------------------------------------------------------------
# the stand-in server process


def start_standin(model: Path, port: int, *flags: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(SERVER), "--model-path", str(model), "--embodiment-tag", "UNITREE_G1",
         "--host", "127.0.0.1", "--port", str(port), *flags],
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


@pytest.mark.parametrize(
    ("flags", "sim"), [((), False), (("--use-sim-policy-wrapper",), True), (("--no-strict",), False)]
)
def test_standin_server_passes_every_stage(model_dir: Path, flags: tuple[str, ...], sim: bool) -> None:
    port = free_port()
    process = start_standin(model_dir, port, *flags)
    try:
        result = probe_server(
            "127.0.0.1", port, startup_timeout_s=30, request_timeout_s=5, sim_policy_wrapper=sim
        )
        wrong = probe_server(
            "127.0.0.1", port, startup_timeout_s=5, request_timeout_s=5, sim_policy_wrapper=not sim
        )
    finally:
        output = stop(process)
    assert result["ok"], (result, output)
    assert [s["name"] for s in result["stages"]] == STAGES
    assert not wrong["ok"] and wrong["failed_stage"] == "get_action" and wrong["hint"]


def test_slow_loading_server_is_waited_for(model_dir: Path) -> None:
    port = free_port()
    process = start_standin(model_dir, port, env={"GROOT_STANDIN_SERVER_DELAY_S": "2"})
    try:
        result = probe_server(
            "127.0.0.1", port, startup_timeout_s=30, request_timeout_s=1, retry_interval_s=0.2
        )
    finally:
        output = stop(process)
    assert result["ok"], (result, output)
    assert result["stages"][0]["seconds"] >= 1.5 and result["attempts"] >= 2


# ---------------------------------------------------------------------------------------------------
# the CLI and the module


def test_cli_exit_codes_and_summary(replay, capsys: pytest.CaptureFixture[str]) -> None:
    healthy = replay(recorded("sim"))
    assert cli_main(["probe", "127.0.0.1", str(healthy.port), "--sim-policy-wrapper", "--json"]) == 0
    assert '"ok": true' in capsys.readouterr().out
    refused = replay(recorded("strict", get_action=exchange("strict", "error_flat_observation").reply))
    code = cli_main(
        ["probe", "127.0.0.1", str(refused.port), "--sim-policy-wrapper", "--startup-timeout", "5"]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "unhealthy: get_action failed at tcp://127.0.0.1:" in out
    assert "server answered: {'error': \"Observation must contain a 'video' key\"}" in out
    assert "hint: the server runs without --use-sim-policy-wrapper" in out


def test_the_action_passes_the_layout_and_explains_a_failure(replay) -> None:
    server = replay(recorded("sim"))
    args = {"host": "127.0.0.1", "port": server.port, "startup_timeout_s": 5, "request_timeout_s": 2}
    passed = run_action("groot_server_probe", {**args, "sim_policy_wrapper": True})
    assert passed.get("failed") is not True and passed["ok"] and passed["changed"] is False, passed
    server.replies["get_action"] = exchange("sim", "error_nested_observation").reply
    failed = run_action("groot_server_probe", args)
    assert failed["failed"] and failed["failed_stage"] == "get_action"
    assert "Video key 'video.ego_view' must be in observation" in failed["msg"]
    assert "(hint: the server runs with --use-sim-policy-wrapper" in failed["msg"]
    checked = run_action("groot_server_probe", {**args, "sim_policy_wrapper": True}, check=True)
    assert checked["layout"] == "flat (--use-sim-policy-wrapper)" and checked["stages"] == []
