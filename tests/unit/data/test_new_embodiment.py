"""NEW_EMBODIMENT through the datasets stage: a GR00T-layout, teleop-shaped dataset (28-wide state and
action, 7-wide Dex3 hands, one rs_view camera, episodes of 1,200-1,500 frames) adopted, its stats computed
from its own meta/modality.json and the recipe's modality config (the production teleop reconstruction,
RELATIVE arms over 16 steps), validated, and a config that does not match refused before any stats."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from groot_ops.data.build import StepError, build_training_dataset
from groot_ops.data.fingerprint import stats_problems
from groot_ops.data.synth import synth_groot_dataset
from groot_ops.data.validate import validate_dataset
from tests.data_factory import tree_state

REPO = Path(__file__).resolve().parents[3]
TELEOP_CONFIG = REPO / "inventory" / "modality_configs" / "production" / "g1_teleop_config.py"
LENGTHS = (1200, 1350, 1500)
HORIZON = 16


@pytest.fixture(scope="module")
def teleop_src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(
        synth_groot_dataset(tmp_path_factory.mktemp("hub") / "g1-pick-apple", lengths=LENGTHS)["output"]
    )


def _items(src: Path, root: Path) -> list[dict[str, str]]:
    return [
        {
            "name": "g1_pick_apple",
            "raw_dir": str(src.parent),
            "src_dir": str(src),
            "groot_dir": str(root / "groot" / "g1_pick_apple"),
            "layout": "groot",
        }
    ]


def _build(src: Path, root: Path, config: Path = TELEOP_CONFIG, *, check: bool = False, **kw: object) -> dict:
    return build_training_dataset(
        _items(src, root),
        str(root / "groot" / "g1_pick_apple"),
        recipe="teleop",
        provenance_file=str(root / "provenance" / "teleop.json"),
        embodiment_tag="NEW_EMBODIMENT",
        modality_config=config.name,
        modality_config_text=config.read_text(),
        check=check,
        **kw,  # type: ignore[arg-type]
    )


def _naive(root: Path, relative_keys: tuple[str, ...]) -> tuple[dict, dict]:
    """Upstream's definitions the obvious way: all rows as float32, np.* along axis 0; the chunks
    action[t:t+16] - state[t] sliced by meta/modality.json, for t in 0..length-16."""
    modality = json.loads((root / "meta/modality.json").read_text())
    tables = [pq.read_table(p) for p in sorted(root.glob("data/*/*.parquet"))]
    stats = {}
    for column in ("observation.state", "action", "timestamp"):
        rows = [r if isinstance(r, list) else [r] for t in tables for r in t.column(column).to_pylist()]
        x = np.array(rows, dtype=np.float32)
        q = np.quantile(x, [0.01, 0.99], axis=0)
        stats[column] = {
            "mean": x.mean(axis=0),
            "std": x.std(axis=0),
            "min": x.min(axis=0),
            "max": x.max(axis=0),
            "q01": q[0],
            "q99": q[1],
        }
    relative = {}
    for key in relative_keys:
        s, a = modality["state"][key], modality["action"][key]
        chunks = []
        for table in tables:
            state = np.array(table.column("observation.state").to_pylist(), dtype=np.float32)
            action = np.array(table.column("action").to_pylist(), dtype=np.float32)
            for t in range(len(state) - HORIZON + 1):
                chunks.append(
                    action[t : t + HORIZON, a["start"] : a["end"]] - state[t, s["start"] : s["end"]]
                )
        c = np.stack(chunks)
        q = np.quantile(c, [0.01, 0.99], axis=0)
        relative[key] = {
            "max": c.max(axis=0),
            "min": c.min(axis=0),
            "q01": q[0],
            "q99": q[1],
            "mean": c.mean(axis=0),
            "std": c.std(axis=0),
        }
    return stats, relative


def _assert_stats(dataset: Path, relative_keys: tuple[str, ...]) -> None:
    stats = json.loads((dataset / "meta/stats.json").read_text())
    relative = json.loads((dataset / "meta/relative_stats.json").read_text())
    ref_stats, ref_relative = _naive(dataset, relative_keys)
    assert sorted(stats) == sorted(ref_stats)
    for name, entry in [*ref_stats.items(), *ref_relative.items()]:
        got = stats[name] if name in ref_stats else relative[name]
        for key, expected in entry.items():
            assert np.shape(got[key]) == np.shape(expected), (name, key)
            if key in ("min", "max", "q01", "q99"):
                # Order statistics are exact: the same float32 values np.quantile/min/max give.
                np.testing.assert_array_equal(np.asarray(got[key]), expected, err_msg=f"{name} {key}")
            else:
                np.testing.assert_allclose(got[key], expected, rtol=1e-5, atol=1e-6, err_msg=f"{name} {key}")
    assert list(relative) == sorted(relative_keys)


def test_teleop_dataset_builds_with_its_modality_config(teleop_src: Path, tmp_path: Path) -> None:
    dataset = tmp_path / "groot" / "g1_pick_apple"
    result = _build(teleop_src, tmp_path)
    assert result["changed"] and result["frames"] == sum(LENGTHS) and result["episodes"] == 3
    assert any("modality config g1_teleop_config.py: matches" in line for line in result["lines"])
    assert any("left_arm, right_arm, horizon 16" in line for line in result["lines"])
    assert result["validation"]["ok"], result["validation"]["problems"]
    # Arms RELATIVE (16, 7) each; the ABSOLUTE hands get none, exactly as generate_rel_stats would.
    _assert_stats(dataset, ("left_arm", "right_arm"))
    record = json.loads((tmp_path / "provenance" / "teleop.json").read_text())
    assert record["modality_config"]["name"] == "g1_teleop_config.py"
    assert len(record["modality_config"]["sha256"]) == 64
    stats_record = json.loads((dataset / "meta/groot_ops.json").read_text())["stats"]
    assert stats_record["horizon"] == HORIZON
    assert sorted(stats_record["relative"]["keys"]) == ["left_arm", "right_arm"]

    before = tree_state(tmp_path)
    again = _build(teleop_src, tmp_path)
    assert not again["changed"], again["lines"]
    assert tree_state(tmp_path) == before
    checked = _build(teleop_src, tmp_path, check=True)
    assert not checked["changed"]
    assert tree_state(tmp_path) == before


def test_check_mode_writes_nothing(teleop_src: Path, tmp_path: Path) -> None:
    result = _build(teleop_src, tmp_path, check=True)
    assert result["changed"]
    assert not (tmp_path / "groot").exists() and not (tmp_path / "provenance").exists()


def test_another_config_makes_the_stats_stale(teleop_src: Path, tmp_path: Path) -> None:
    dataset = tmp_path / "groot" / "g1_pick_apple"
    _build(teleop_src, tmp_path)
    hands = tmp_path / "g1_teleop_hands.py"
    text = TELEOP_CONFIG.read_text().replace("ActionRepresentation.ABSOLUTE", "ActionRepresentation.RELATIVE")
    hands.write_text(text)
    result = _build(teleop_src, tmp_path, hands)
    assert result["stats"]["changed"] and not result["stats"]["fresh_before"]
    _assert_stats(dataset, ("left_arm", "left_hand", "right_arm", "right_hand"))
    # The UNITREE_G1 view of the same dataset calls these stats stale (other relative keys).
    assert (
        "stats were computed for relative keys left_arm, left_hand, right_arm, right_hand, expected "
        "left_arm, right_arm (UNITREE_G1)"
    ) in stats_problems(dataset)


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        # A state key the dataset lacks.
        ('"left_hand", "right_hand"],\n    ),', "state key 'neck' not in dataset g1_pick_apple"),
        # The pinned hand width is Dex1's 1, the data's Dex3 hands are 7 wide.
        ('"left_hand": 7, "right_hand": 7},\n    "action"', "state key 'left_hand' is 7 wide"),
        # The UNITREE_G1 camera name: this dataset has rs_view.
        ('modality_keys=["rs_view"]', "video key 'ego_view' not in dataset g1_pick_apple"),
    ],
)
def test_a_config_that_does_not_match_fails_before_the_stats(
    teleop_src: Path, tmp_path: Path, edit: str, needle: str
) -> None:
    text = TELEOP_CONFIG.read_text()
    assert text.count(edit) == 1
    replacement = {
        '"left_hand", "right_hand"],\n    ),': '"left_hand", "right_hand", "neck"],\n    ),',
        '"left_hand": 7, "right_hand": 7},\n    "action"': '"left_hand": 1, "right_hand": 1},\n    "action"',
        'modality_keys=["rs_view"]': 'modality_keys=["ego_view"]',
    }[edit]
    config = tmp_path / "g1_teleop_bad.py"
    config.write_text(text.replace(edit, replacement))
    with pytest.raises(StepError) as caught:
        _build(teleop_src, tmp_path, config)
    message = str(caught.value)
    assert message.startswith("recipe teleop: modality config g1_teleop_bad.py: "), message
    assert needle in message and "meta/modality.json" in message and "\n" not in message
    dataset = tmp_path / "groot" / "g1_pick_apple"
    assert not (dataset / "meta/stats.json").exists() and not (dataset / "meta/relative_stats.json").exists()
    # The same verdict from validation (the CLI and groot_validate): the config file is named.
    report = validate_dataset(dataset, stats=False, modality_config=config)
    assert not report["ok"]
    assert any(needle in p["message"] and p["path"] == str(config) for p in report["problems"])


def test_new_embodiment_without_a_config_is_refused(teleop_src: Path, tmp_path: Path) -> None:
    with pytest.raises(StepError, match="NEW_EMBODIMENT needs a modality config"):
        build_training_dataset(
            _items(teleop_src, tmp_path),
            str(tmp_path / "groot" / "g1_pick_apple"),
            recipe="teleop",
            provenance_file=str(tmp_path / "p.json"),
            embodiment_tag="NEW_EMBODIMENT",
        )
    assert not (tmp_path / "groot").exists()


def test_validation_holds_a_teleop_dataset_to_generic_rules(teleop_src: Path, tmp_path: Path) -> None:
    dataset = tmp_path / "groot" / "g1_pick_apple"
    _build(teleop_src, tmp_path)
    # The UNITREE_G1 rules refuse this layout (31/23 widths): NEW_EMBODIMENT must not be held to them.
    assert not validate_dataset(dataset)["ok"]
    assert validate_dataset(dataset, modality_config=TELEOP_CONFIG)["ok"]
    # A relative key the config does not make RELATIVE would be kept by upstream's generate_rel_stats.
    rel_path = dataset / "meta/relative_stats.json"
    relative = json.loads(rel_path.read_text())
    rel_path.write_text(json.dumps({**relative, "left_hand": relative["left_arm"]}, indent=4))
    messages = [p["message"] for p in validate_dataset(dataset, modality_config=TELEOP_CONFIG)["problems"]]
    assert "relative stats for left_hand, not a RELATIVE key of g1_teleop_config.py" in messages
    # A modality.json group reaching past its column.
    modality = json.loads((dataset / "meta/modality.json").read_text())
    modality["state"]["right_hand"]["end"] = 29
    (dataset / "meta/modality.json").unlink()  # hard-linked from the source: replace, never edit in place
    (dataset / "meta/modality.json").write_text(json.dumps(modality))
    messages = [p["message"] for p in validate_dataset(dataset, modality_config=TELEOP_CONFIG)["problems"]]
    assert "state group right_hand spans 21..29 of observation.state, 28 wide" in messages


def test_a_config_with_unitree_g1s_relative_keys_shares_the_stats(groot_v21: Path, tmp_path: Path) -> None:
    """lab-teleop (NEW_EMBODIMENT, relative arms over 30 steps) on a UNITREE_G1-layout dataset computes the
    very numbers UNITREE_G1 does: the stats record is UNITREE_G1's, so recipes sharing the dataset agree."""
    import shutil

    from groot_ops.data.relative import config_spec
    from groot_ops.data.stats import compute_stats
    from groot_ops.train.modality_config import parse_modality_config

    lab = REPO / "inventory" / "modality_configs" / "lab" / "lab_g1_arms.py"
    dataset = Path(shutil.copytree(groot_v21, tmp_path / "fold_towel"))
    compute_stats(dataset)
    spec = config_spec(parse_modality_config(lab), dataset)
    assert [g.name for g in spec.groups] == ["left_arm", "right_arm"] and spec.record() is None
    assert not compute_stats(dataset, relative=spec)["changed"]
    assert not stats_problems(dataset)
    assert validate_dataset(dataset, modality_config=lab)["ok"]
    assert validate_dataset(dataset)["ok"]
