"""A NEW_EMBODIMENT checkpoint served by the stand-in's run_gr00t_server.py and probed over real ZMQ.

The chain upstream has: launch_finetune.py registers the --modality_config_path config, the processor's
save_pretrained writes it into processor_config.json with the per-group statistics.json, and
run_gr00t_server.py --embodiment-tag NEW_EMBODIMENT serves processor.get_modality_configs()[tag]. The
probe builds its observation from that served config and the checkpoint's statistics.json.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from groot_ops import policy_wire
from groot_ops.probe import probe_server
from tests.conformance.policy_servers import RunningServer, free_port, standin_server
from tests.integration.standin.conftest import base_flags
from tests.modality_cases import write_config
from tests.standins.model_fixture import STANDIN_ROOT, arms_and_hands_configs, write_model_dir

ARMS_AND_HANDS = ["left_arm", "right_arm", "left_hand", "right_hand"]
LANGUAGE = "annotation.human.task_description"
# The lab's UNITREE_G1-layout dataset: 7-DOF arms, 1-wide Dex1 grippers (tests/standins/g1_layout.py).
WIDTHS = {"left_arm": 7, "right_arm": 7, "left_hand": 1, "right_hand": 1}


def _statistics(model: Path) -> dict:
    return json.loads((model / "statistics.json").read_text())


@pytest.fixture(scope="module")
def new_embodiment_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_model_dir(
        tmp_path_factory.mktemp("nemb") / "model",
        embodiment="new_embodiment",
        modality_configs=arms_and_hands_configs(),
    )


def test_a_trained_new_embodiment_checkpoint_serves_its_own_config(
    dataset: Path, tmp_path: Path, launch
) -> None:
    config = write_config(tmp_path / "cfgs", "match")
    out = tmp_path / "out"
    done = launch(
        base_flags(dataset, out, embodiment_tag="NEW_EMBODIMENT", modality_config_path=config, max_steps=2)
    )
    assert done.returncode == 0, done.stderr[-2000:]
    checkpoint = out / "checkpoint-2"
    persisted = json.loads((checkpoint / "processor_config.json").read_text())
    served = persisted["processor_kwargs"]["modality_configs"]["new_embodiment"]
    assert served["state"]["modality_keys"] == ARMS_AND_HANDS
    with standin_server(checkpoint, embodiment_tag="NEW_EMBODIMENT") as server:
        result = probe_server(
            "127.0.0.1",
            server.port,
            embodiment="new_embodiment",
            statistics=_statistics(checkpoint),
            startup_timeout_s=30,
        )
        reply = policy_wire.call("127.0.0.1", server.port, "get_modality_config", timeout_s=10)
    assert result["ok"], result
    assert [s["name"] for s in result["stages"]] == ["ping", "get_modality_config", "get_action", "reset"]
    assert result["stages"][1]["detail"] == "4 state / 4 action groups, horizon 30, video ['ego_view']"
    assert reply["action"].modality_keys == ARMS_AND_HANDS
    assert [c["rep"] for c in reply["action"].action_configs] == [
        "RELATIVE",
        "RELATIVE",
        "ABSOLUTE",
        "ABSOLUTE",
    ]


@pytest.mark.parametrize("flags", [(), ("--use-sim-policy-wrapper",)])
def test_probe_round_trip_in_both_layouts(new_embodiment_model: Path, flags: tuple[str, ...]) -> None:
    with standin_server(new_embodiment_model, *flags, embodiment_tag="NEW_EMBODIMENT") as server:
        result = probe_server(
            "127.0.0.1",
            server.port,
            embodiment="new_embodiment",
            statistics=_statistics(new_embodiment_model),
            sim_policy_wrapper=bool(flags),
            startup_timeout_s=30,
        )
        observation = {
            "video": {"ego_view": np.zeros((1, 1, 48, 64, 3), np.uint8)},
            "state": {k: np.zeros((1, 1, w), np.float32) for k, w in WIDTHS.items()},
            "language": {LANGUAGE: [["Fold the towel."]]},
        }
        if not flags:
            actions, _ = policy_wire.call(
                "127.0.0.1",
                server.port,
                "get_action",
                {"observation": observation, "options": None},
                timeout_s=10,
            )
            assert {k: v.shape for k, v in actions.items()} == {k: (1, 30, w) for k, w in WIDTHS.items()}
    assert result["ok"], result


def _get_action_error(port: int, state: dict[str, np.ndarray]) -> str:
    observation = {
        "video": {"ego_view": np.zeros((1, 1, 48, 64, 3), np.uint8)},
        "state": state,
        "language": {LANGUAGE: [["Fold the towel."]]},
    }
    with pytest.raises(policy_wire.ServerError) as refused:
        policy_wire.call(
            "127.0.0.1", port, "get_action", {"observation": observation, "options": None}, timeout_s=10
        )
    return str(refused.value)


def test_wrong_keys_and_widths_are_refused_as_upstream(new_embodiment_model: Path) -> None:
    good = {k: np.zeros((1, 1, w), np.float32) for k, w in WIDTHS.items()}
    with standin_server(new_embodiment_model, embodiment_tag="NEW_EMBODIMENT") as server:
        # Gr00tPolicy.check_observation looks the key up for the batch size first: a KeyError naming it.
        missing = {k: v for k, v in good.items() if k != "left_hand"}
        assert _get_action_error(server.port, missing) == "server answered error: 'left_hand'"
        # normalize_values_minmax: the statistics' boolean mask of width 1 against a 7-wide state.
        wide = good | {"left_hand": np.zeros((1, 1, 7), np.float32)}
        assert _get_action_error(server.port, wide) == (
            "server answered error: boolean index did not match indexed array along dimension 1; "
            "dimension is 7 but corresponding boolean dimension is 1"
        )
        # A probe given another model's statistics (UNITREE_G1 widths) is refused by the server in one line.
        other = {
            "new_embodiment": {
                "state": {k: {"min": [0.0] * 7} for k in WIDTHS},
                "action": {k: {"min": [0.0] * 7} for k in WIDTHS},
            }
        }
        result = probe_server(
            "127.0.0.1", server.port, embodiment="new_embodiment", statistics=other, startup_timeout_s=30
        )
    assert not result["ok"] and result["failed_stage"] == "get_action"
    assert "\n" not in result["error"] and "boolean index did not match" in result["error"]


def test_a_checkpoint_not_trained_for_the_tag_does_not_start(new_embodiment_model: Path) -> None:
    port = free_port()
    with pytest.raises(AssertionError, match="did not become ready") as failed:
        RunningServer(
            [
                sys.executable,
                str(STANDIN_ROOT / "gr00t" / "eval" / "run_gr00t_server.py"),
                *("--model-path", str(new_embodiment_model), "--embodiment-tag", "UNITREE_G1"),
                *("--host", "127.0.0.1", "--port", str(port), "--device", "cpu"),
            ],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            cwd=STANDIN_ROOT,
            port=port,
            timeout_s=30,
        )
    assert "KeyError: 'unitree_g1'" in str(failed.value)
