"""The product's probe against upstream's real PolicyServer, and upstream's real PolicyClient against the
stand-in server; the recorded fixtures are what the real server answers today.

Upstream's ``run_gr00t_server.py`` runs with only model loading and inference replaced
(``upstream_side/fake_gr00t_model.py``): ``ServerConfig``, ``PolicyServer``, ``MsgSerializer``,
``Gr00tPolicy``'s checks, ``Gr00tSimPolicyWrapper`` and the processor's normalization are upstream's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from groot_ops import policy_wire
from groot_ops.probe import probe_server
from tests.conformance import server_fixtures
from tests.conformance.policy_servers import (
    RunningServer,
    make_upstream_checkpoint,
    standin_server,
    upstream_server,
)
from tests.conformance.role_command import rendered_server_command, server_argv
from tests.conformance.upstream import Upstream
from tests.standins.model_fixture import write_model_dir  # also puts the stand-in's gr00t on sys.path


@pytest.fixture(scope="module")
def checkpoint(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_upstream_checkpoint(upstream, tmp_path_factory.mktemp("upstream") / "checkpoint")


@pytest.fixture(scope="module")
def servers(upstream: Upstream, checkpoint: Path) -> Iterator[dict[str, RunningServer]]:
    started: dict[str, RunningServer] = {}
    try:
        for mode, flags in server_fixtures.MODES.items():
            started[mode] = upstream_server(upstream, checkpoint, *flags)
        yield started
    finally:
        for server in started.values():
            server.stop()


def probe(server: RunningServer, **kwargs: object) -> dict:
    return probe_server("127.0.0.1", server.port, startup_timeout_s=30, request_timeout_s=60, **kwargs)


def test_probe_passes_the_real_strict_server(servers: dict[str, RunningServer]) -> None:
    result = probe(servers["strict"])
    assert result["ok"], result
    assert [s["name"] for s in result["stages"]] == ["ping", "get_modality_config", "get_action", "reset"]
    assert result["layout"] == "nested"


def test_probe_passes_the_real_server_with_the_sim_wrapper(servers: dict[str, RunningServer]) -> None:
    result = probe(servers["sim"], sim_policy_wrapper=True)
    assert result["ok"], result


def test_probe_passes_the_real_server_without_checks(servers: dict[str, RunningServer]) -> None:
    assert probe(servers["no_strict"])["ok"]
    assert probe(servers["sim_no_strict"], sim_policy_wrapper=True)["ok"]


@pytest.mark.parametrize(
    ("mode", "sim", "refusal"),
    [
        ("strict", True, "Observation must contain a 'video' key"),
        ("sim", False, "Video key 'video.ego_view' must be in observation"),
        ("no_strict", True, "'video'"),
        ("sim_no_strict", False, "Video key 'video.ego_view' must be in observation"),
    ],
)
def test_probe_in_the_wrong_layout_fails_naming_the_server_flag(
    servers: dict[str, RunningServer], mode: str, sim: bool, refusal: str
) -> None:
    result = probe(servers[mode], sim_policy_wrapper=sim)
    assert not result["ok"] and result["failed_stage"] == "get_action"
    assert refusal in result["error"] and refusal in result["stages"][-1]["reply"]
    assert "--use-sim-policy-wrapper" in result["hint"]


@pytest.mark.parametrize("mode", list(server_fixtures.MODES))
def test_recorded_replies_are_what_the_real_server_answers(
    servers: dict[str, RunningServer], mode: str
) -> None:
    """The committed fixtures are current (re-record with tests/conformance/record.py otherwise); kill
    is left to the PolicyClient test below, which stops its own servers with it."""
    server = servers[mode]
    for recorded in server_fixtures.exchanges(server=mode):
        if recorded.name == "kill":
            continue
        reply = policy_wire.exchange("127.0.0.1", server.port, recorded.request, timeout_s=120)
        if recorded.compare == "bytes":
            assert reply == recorded.reply, recorded.id
        else:
            assert server_fixtures.signature(reply) == server_fixtures.signature(recorded.reply), recorded.id


def test_startup_lines_are_the_recorded_ones(servers: dict[str, RunningServer], checkpoint: Path) -> None:
    recorded = server_fixtures.index()["servers"]
    for mode, server in servers.items():
        lines = [line for line in server.startup_lines if "torchvision" not in line]
        lines = [
            line.replace(str(checkpoint), "<MODEL_DIR>").replace(str(server.port), "<PORT>") for line in lines
        ]
        assert lines == recorded[mode]["startup"], mode


def test_server_config_parses_the_role_command_as_the_stand_in_does(upstream: Upstream) -> None:
    from gr00t.eval.server_config import parse_server_config  # the stand-in's

    for sim in (False, True):
        argv = server_argv(rendered_server_command(groot_server_use_sim_policy_wrapper=sim))
        (live,) = upstream.run_json("server_config_parse.py", json.dumps([argv]))
        assert live["ok"], live
        ours = parse_server_config(argv)
        assert {**vars(ours), "embodiment_tag": ours.embodiment_tag.name} == live["config"]
        assert live["config"]["use_sim_policy_wrapper"] is sim and live["config"]["host"] == "0.0.0.0"


@pytest.fixture(scope="module")
def standin_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_model_dir(tmp_path_factory.mktemp("standin") / "checkpoint-2")


@pytest.mark.parametrize(("flags", "layout"), [((), "nested"), (("--use-sim-policy-wrapper",), "flat")])
def test_real_policy_client_sees_the_stand_in_as_the_real_server(
    upstream: Upstream, checkpoint: Path, standin_model: Path, flags: tuple[str, ...], layout: str
) -> None:
    sessions = {}
    for name, start in (
        ("upstream", lambda: upstream_server(upstream, checkpoint, *flags)),
        ("stand-in", lambda: standin_server(standin_model, *flags)),
    ):
        with start() as server:
            sessions[name] = upstream.run_json(
                "policy_client_session.py", "127.0.0.1", str(server.port), layout, timeout_s=300
            )
            assert server.process.wait(timeout=30) == 0, f"{name} did not exit after kill"
    assert sessions["stand-in"] == sessions["upstream"]
    session = sessions["upstream"]
    assert session["ping"] == {"ok": True}
    assert session["get_modality_config"]["ok"]["action"]["reps"][:2] == ["RELATIVE", "RELATIVE"]
    assert session["get_action_float64"]["raised"] == "RuntimeError"
    assert "must be a numpy array of type np.float32. Got float64" in session["get_action_float64"]["message"]
    assert session["reset"] == {"ok": {}}
    assert session["kill"] == {"ok": None}  # kill answers nil, then the server exits 0 (checked above)
