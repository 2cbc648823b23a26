"""The probe's observation for a NEW_EMBODIMENT server: keys, horizon and language from the served
ModalityConfigs, widths from the model's statistics.json (upstream's layout), mismatches in one line."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from groot_ops.errors import InputError
from groot_ops.policy_wire import ModalityConfig
from groot_ops.probe import (
    StageFailure,
    canned_observation,
    check_action,
    probe_server,
    served_spec,
    widths_from_statistics,
)

TELEOP_GROUPS = ["left_arm", "right_arm", "left_hand", "right_hand"]
LANGUAGE = "annotation.human.task_description"


def _group_stats(width: int) -> dict[str, list[float]]:
    return {s: [0.1 * i for i in range(width)] for s in ("min", "max", "mean", "std", "q01", "q99")}


def teleop_statistics() -> dict[str, Any]:
    """statistics.json of a NEW_EMBODIMENT model as Gr00tN1d6Processor.save_pretrained writes it: the
    teleop config's groups (Dex3 hands 7 wide), relative arm statistics one row per chunk step, and a
    base-model tag next to it."""
    groups = {"left_arm": 7, "right_arm": 7, "left_hand": 7, "right_hand": 7}
    relative = {g: {"min": [[0.0] * 7] * 16, "max": [[1.0] * 7] * 16} for g in ("left_arm", "right_arm")}
    return {
        "new_embodiment": {
            "state": {g: _group_stats(w) for g, w in groups.items()},
            "action": {g: _group_stats(w) for g, w in groups.items()},
            "relative_action": relative,
        },
        "gr1": {"state": {"left_arm": _group_stats(7)}, "action": {"left_arm": _group_stats(7)}},
    }


def teleop_configs(**overrides: ModalityConfig) -> dict[str, ModalityConfig]:
    """What a server started with --embodiment-tag NEW_EMBODIMENT answers to get_modality_config for
    inventory/modality_configs/production/g1_teleop_config.py (horizon 16, camera rs_view)."""
    configs = {
        "video": ModalityConfig(delta_indices=[0], modality_keys=["rs_view"]),
        "state": ModalityConfig(delta_indices=[0], modality_keys=list(TELEOP_GROUPS)),
        "action": ModalityConfig(delta_indices=list(range(16)), modality_keys=list(TELEOP_GROUPS)),
        "language": ModalityConfig(delta_indices=[0], modality_keys=[LANGUAGE]),
    }
    return configs | overrides


def test_widths_come_from_the_min_lists_of_the_tag() -> None:
    widths = widths_from_statistics(teleop_statistics(), "NEW_EMBODIMENT")
    assert widths == {"state": dict.fromkeys(TELEOP_GROUPS, 7), "action": dict.fromkeys(TELEOP_GROUPS, 7)}


def test_statistics_without_the_tag_fail_naming_it() -> None:
    statistics = teleop_statistics()
    del statistics["new_embodiment"]
    with pytest.raises(InputError, match=r"no statistics for embodiment 'new_embodiment' \(has: \['gr1'\]\)"):
        widths_from_statistics(statistics, "new_embodiment")


def test_nested_observation_follows_the_served_config() -> None:
    configs, spec = served_spec(
        teleop_configs(), "new_embodiment", widths_from_statistics(teleop_statistics(), "new_embodiment")
    )
    observation = canned_observation(configs, spec)
    assert list(observation["video"]) == ["rs_view"]
    assert observation["video"]["rs_view"].shape == (1, 1, 480, 640, 3)
    assert observation["video"]["rs_view"].dtype == np.uint8
    assert {k: v.shape for k, v in observation["state"].items()} == dict.fromkeys(TELEOP_GROUPS, (1, 1, 7))
    assert all(v.dtype == np.float32 for v in observation["state"].values())
    assert observation["language"] == {LANGUAGE: [["groot-ops health probe"]]}
    assert spec.horizon == 16 and spec.action == dict.fromkeys(TELEOP_GROUPS, 7)


def test_flat_observation_and_state_horizon_from_the_delta_indices() -> None:
    configs = teleop_configs(state=ModalityConfig(delta_indices=[-1, 0], modality_keys=["left_arm"]))
    configs, spec = served_spec(
        configs, "new_embodiment", widths_from_statistics(teleop_statistics(), "new_embodiment")
    )
    observation = canned_observation(configs, spec, sim_policy_wrapper=True)
    assert sorted(observation) == [LANGUAGE, "state.left_arm", "video.rs_view"]
    assert observation["state.left_arm"].shape == (1, 2, 7)
    assert observation[LANGUAGE] == ["groot-ops health probe"]


def test_a_served_key_without_statistics_fails_naming_it() -> None:
    configs = teleop_configs(state=ModalityConfig(delta_indices=[0], modality_keys=["left_arm", "left_leg"]))
    with pytest.raises(StageFailure) as failure:
        served_spec(configs, "new_embodiment", widths_from_statistics(teleop_statistics(), "new_embodiment"))
    message = str(failure.value)
    assert "\n" not in message
    assert "served state keys ['left_leg'] have no statistics for new_embodiment" in message
    assert failure.value.hint and "another model" in failure.value.hint


def test_two_language_keys_fail() -> None:
    configs = teleop_configs(language=ModalityConfig(delta_indices=[0], modality_keys=["a", "b"]))
    with pytest.raises(StageFailure, match=r"language keys \['a', 'b'\]: the server takes exactly one"):
        served_spec(configs, "new_embodiment", widths_from_statistics(teleop_statistics(), "new_embodiment"))


def test_actions_are_held_to_the_served_horizon_and_widths() -> None:
    _, spec = served_spec(
        teleop_configs(), "new_embodiment", widths_from_statistics(teleop_statistics(), "new_embodiment")
    )
    good = {g: np.zeros((1, 16, 7), np.float32) for g in TELEOP_GROUPS}
    assert check_action([good, {}], spec) == "4 action groups of 16 steps"
    with pytest.raises(
        StageFailure, match=r"'left_hand' is float32\(1, 30, 7\), expected float32\(1, 16, 7\)"
    ):
        check_action([good | {"left_hand": np.zeros((1, 30, 7), np.float32)}, {}], spec)


def test_probing_another_embodiment_without_statistics_is_refused_before_any_request() -> None:
    with pytest.raises(InputError, match=r"needs the served model's statistics\.json"):
        probe_server("127.0.0.1", 1, embodiment="new_embodiment", startup_timeout_s=0.1)
