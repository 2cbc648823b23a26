"""The stand-in's run_gr00t_server.py answers every recorded request exactly as upstream's real server did.

The fixtures (tests/fixtures/upstream/server, recorded by tests/conformance/recorders/server.py from
upstream's own server) hold each request and reply as msgpack bytes, per server mode. ``bytes``
exchanges must come back identical; ``structure`` exchanges (actions of a model) must have the same
keys, dtypes and shapes. The command line is held to tyro's recorded parse of upstream's ServerConfig.
"""

from __future__ import annotations

import json

import pytest

from groot_ops import policy_wire
from tests.conformance import server_fixtures
from tests.conformance.policy_servers import standin_server
from tests.conformance.role_command import rendered_server_command
from tests.standins.model_fixture import write_model_dir

RECORDED = server_fixtures.index()
SERVER_CONFIG = json.loads((server_fixtures.FIXTURES / "server_config.json").read_text())


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory):
    return write_model_dir(tmp_path_factory.mktemp("model") / "checkpoint-2")


@pytest.mark.parametrize("mode", list(server_fixtures.MODES))
def test_standin_replies_as_the_real_server(model_dir, mode: str) -> None:
    flags = server_fixtures.MODES[mode]
    mismatches = []
    with standin_server(model_dir, *flags) as server:
        startup = [
            line.replace(str(model_dir), "<MODEL_DIR>").replace(str(server.port), "<PORT>")
            for line in server.startup_lines
        ]
        assert startup == RECORDED["servers"][mode]["startup"]
        for recorded in server_fixtures.exchanges(server=mode):
            reply = policy_wire.exchange("127.0.0.1", server.port, recorded.request, timeout_s=10)
            if recorded.compare == "bytes":
                same = reply == recorded.reply
            else:
                same = server_fixtures.signature(reply) == server_fixtures.signature(recorded.reply)
            if not same:
                upstream, ours = server_fixtures.readable(recorded.reply), server_fixtures.readable(reply)
                mismatches.append(
                    f"{recorded.id} ({recorded.what}): upstream {upstream!r}, stand-in {ours!r}"
                )
        # the last recorded exchange is kill: upstream's server then exits with this code
        assert server.process.wait(timeout=10) == RECORDED["servers"][mode]["exit_code"]
    assert not mismatches, "\n".join(mismatches)


def test_the_role_renders_the_recorded_server_commands() -> None:
    """The recorded ServerConfig parses are of the command the role renders today (else re-record)."""
    commands = SERVER_CONFIG["role_commands"]
    assert commands["default"] == rendered_server_command()
    assert commands["sim_policy_wrapper"] == rendered_server_command(groot_server_use_sim_policy_wrapper=True)


@pytest.mark.parametrize("recorded", SERVER_CONFIG["parses"], ids=lambda r: " ".join(r["argv"]) or "(none)")
def test_standin_parses_the_command_line_as_servers_config(recorded: dict, capsys) -> None:
    from gr00t.eval.server_config import parse_server_config  # the stand-in's

    try:
        config = parse_server_config(recorded["argv"])
    except SystemExit as exc:
        assert not recorded["ok"], f"tyro accepted {recorded['argv']}: {recorded.get('config')}"
        assert exc.code == recorded["exit_code"]
        if exc.code:  # the refusal names what tyro's names
            ours = capsys.readouterr().err
            named = [word for word in recorded["argv"] if word in recorded["error"] and word in ours]
            assert named, (recorded["error"], ours)
        return
    assert recorded["ok"], f"tyro refused {recorded['argv']}: {recorded['error']}"
    assert {**vars(config), "embodiment_tag": config.embodiment_tag.name} == recorded["config"]
