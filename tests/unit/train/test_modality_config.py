"""groot_ops.train.modality_config: the config file read with ast (never run) and checked against a
dataset's meta/modality.json; the verdicts of upstream on the same cases are the reference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groot_ops.errors import ConfigError, InputError
from groot_ops.train.modality_config import (
    check_against_dataset,
    check_modality_config,
    parse_modality_config,
)
from tests.modality_cases import CONFIG, EDITS, KEYS, recorded, write_config

REPO = Path(__file__).resolve().parents[3]
TELEOP = REPO / "inventory" / "modality_configs" / "production" / "g1_teleop_config.py"
G1_MODALITY = {
    "state": {
        "left_leg": {"start": 0, "end": 6}, "right_leg": {"start": 6, "end": 12},
        "waist": {"start": 12, "end": 15}, "left_arm": {"start": 15, "end": 22},
        "right_arm": {"start": 22, "end": 29}, "left_hand": {"start": 29, "end": 30},
        "right_hand": {"start": 30, "end": 31},
    },
    "action": {
        "left_arm": {"start": 0, "end": 7}, "right_arm": {"start": 7, "end": 14},
        "left_hand": {"start": 14, "end": 15}, "right_hand": {"start": 15, "end": 16},
        "waist": {"start": 16, "end": 19}, "base_height_command": {"start": 19, "end": 20},
        "navigate_command": {"start": 20, "end": 23},
    },
    "video": {"ego_view": {"original_key": "observation.images.ego_view"}},
    "annotation": {"human.task_description": {"original_key": "task_index"}},
}  # fmt: skip


def dataset(root: Path, modality: dict = G1_MODALITY, state_width: int = 31, action_width: int = 23) -> Path:
    meta = root / "meta"
    meta.mkdir(parents=True)
    (meta / "modality.json").write_text(json.dumps(modality))
    features = {
        "observation.state": {"dtype": "float32", "shape": [state_width]},
        "action": {"dtype": "float32", "shape": [action_width]},
    }
    (meta / "info.json").write_text(json.dumps({"features": features}))
    return root


def test_the_lab_config_reads_as_upstream_registers_it() -> None:
    config = parse_modality_config(CONFIG)
    assert config.embodiment_tag == "NEW_EMBODIMENT"
    assert config.modalities["action"].delta_indices == tuple(range(30))
    assert [a.rep for a in config.modalities["action"].actions or ()] == ["RELATIVE"] * 2 + ["ABSOLUTE"] * 2
    assert config.modalities["language"].keys == ("annotation.human.task_description",)


@pytest.mark.parametrize("case", list(EDITS))
def test_every_case_upstream_refuses_is_refused_first_and_the_match_passes(case: str, tmp_path: Path) -> None:
    upstream_ok = recorded()[case]["ok"]
    problems = check_against_dataset(
        parse_modality_config(write_config(tmp_path, case)), dataset(tmp_path / "d")
    )
    assert (not problems) == upstream_ok, problems
    if not upstream_ok:
        assert len(problems) == 1 and f"'{KEYS[case]}'" in problems[0] and "dataset d " in problems[0]
        assert problems[0].startswith(f"modality config emb_{case}.py: ")


def test_check_raises_one_line_naming_file_key_and_dataset(tmp_path: Path) -> None:
    with pytest.raises(InputError) as refused:
        check_modality_config(write_config(tmp_path, "missing_state"), dataset(tmp_path / "g1-pick-apple"))
    line = str(refused.value)
    assert "\n" not in line
    assert "emb_missing_state.py" in line and "'neck'" in line and "g1-pick-apple" in line


def test_a_group_past_the_end_of_its_column_is_refused(tmp_path: Path) -> None:
    problems = check_against_dataset(parse_modality_config(CONFIG), dataset(tmp_path / "d", state_width=30))
    assert (
        problems == [problems[0]]
        and "state key 'right_hand' spans 30..31 of column 'observation.state' (30 wide)" in problems[0]
    )


def test_pinned_widths_of_the_reconstructed_teleop_config(tmp_path: Path) -> None:
    seven = {
        k: {"start": 7 * i, "end": 7 * (i + 1)}
        for i, k in enumerate(("left_arm", "right_arm", "left_hand", "right_hand"))
    }
    teleop = {
        "state": seven, "action": seven, "video": {"rs_view": {}},
        "annotation": {"human.task_description": {}},
    }  # fmt: skip
    config = parse_modality_config(TELEOP)
    assert check_against_dataset(config, dataset(tmp_path / "ok", teleop, 28, 28)) == []
    # Dex1 grippers (1 wide) instead of Dex3 hands: the reconstruction's assumption fails loudly.
    narrow = json.loads(json.dumps(teleop))
    narrow["state"]["right_hand"] = {"start": 21, "end": 22}
    problems = check_against_dataset(config, dataset(tmp_path / "narrow", narrow, 28, 28))
    assert any("state key 'right_hand' is 1 wide" in p and "GROOT_OPS_WIDTHS says 7" in p for p in problems)


def test_wrong_embodiment_and_missing_language_are_config_problems(tmp_path: Path) -> None:
    text = CONFIG.read_text().replace("EmbodimentTag.NEW_EMBODIMENT)", "EmbodimentTag.UNITREE_G1)")
    path = tmp_path / "other_tag.py"
    path.write_text(text)
    problems = check_against_dataset(parse_modality_config(path), dataset(tmp_path / "d"))
    assert any("registers under UNITREE_G1, the recipe trains NEW_EMBODIMENT" in p for p in problems)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("json.py", "x = 1\n", "upstream imports it as module 'json'"),
        ("my-config.py", "x = 1\n", "whose name is a Python identifier"),
        ("two.py", "c = {}\n", "exactly one module-level register_modality_config"),
        ("computed.py", "keys = ['a']\nc = {'state': ModalityConfig(delta_indices=[0], modality_keys=keys)}\n"
         "register_modality_config(c)\n", "cannot read modality_keys without running the file"),
        ("broken.py", "c = {\n", "line 1: syntax error"),
    ],
)  # fmt: skip
def test_files_it_cannot_read_without_running_them_are_refused(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        parse_modality_config(path)


def test_nothing_in_the_file_is_executed(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "side_effect.py"
    path.write_text(f"open({str(marker)!r}, 'w').close()\n" + CONFIG.read_text().split("\n", 3)[3])
    parse_modality_config(path)
    assert not marker.exists()


def _launch_spec(tmp_path: Path, **extra: object) -> dict:
    from tests.unit.train.test_secrets_cleanup import spec

    values = spec(tmp_path)
    dataset(tmp_path / "g1data")
    return {**values, "dataset_path": str(tmp_path / "g1data"), "embodiment_tag": "NEW_EMBODIMENT", **extra}


def test_a_mismatching_config_stops_the_launch_before_torchrun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    from groot_ops.train import control

    spawned: list[object] = []
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: spawned.append(a))
    config = write_config(tmp_path / "cfgs", "missing_video")
    values = _launch_spec(tmp_path, flags={"modality_config_path": str(config)})
    planned = control.start(values, check=True)
    assert any("video key 'rs_view' not in dataset g1data" in w for w in planned["warnings"])
    with pytest.raises(
        InputError, match=r"recipe r1: modality config emb_missing_video.py: video key 'rs_view'"
    ):
        control.start(values)
    assert spawned == [] and not (tmp_path / "runs" / "r1" / "launch.json").exists()


def test_new_embodiment_without_a_config_is_refused_before_torchrun(tmp_path: Path) -> None:
    from groot_ops.train import control

    with pytest.raises(InputError, match="NEW_EMBODIMENT needs a modality config"):
        control.start(_launch_spec(tmp_path))
