"""The product and the stand-in held against outputs recorded from the real Isaac-GR00T n1.6.1 code.

Fixtures: tests/fixtures/upstream/data/ (tests/conformance/recorders/data.py re-records them). The
datasets they were recorded on are rebuilt here by ``tests.data_factory.verdict_datasets``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from groot_ops.data.fingerprint import stats_are_fresh, stats_json_bytes, stats_problems
from groot_ops.data.stats import compute_stats
from tests.data_factory import verdict_datasets
from tests.standins.model_fixture import STANDIN_ROOT

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "upstream" / "data"
# Exception types upstream raised, as the stand-in must (a subclass may say more).
UPSTREAM_ERRORS = {
    "AssertionError": AssertionError,
    "KeyError": KeyError,
    "ValueError": ValueError,
    "JSONDecodeError": json.JSONDecodeError,
    "FileNotFoundError": FileNotFoundError,
    "IndexError": IndexError,
}


def _fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(scope="module")
def standin() -> object:
    if str(STANDIN_ROOT) not in sys.path:
        sys.path.insert(0, str(STANDIN_ROOT))
    import gr00t.data.dataset
    import gr00t.data.stats

    return gr00t.data


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return verdict_datasets(tmp_path_factory.mktemp("verdicts"))


def test_every_recorded_dataset_is_rebuilt(datasets: dict[str, Path]) -> None:
    assert sorted(datasets) == sorted(_fixture("loader_verdict.json")["datasets"])


@pytest.mark.parametrize("name", sorted(_fixture("loader_verdict.json")["datasets"]))
def test_standin_reader_reaches_the_upstream_loaders_verdict(
    name: str, datasets: dict[str, Path], standin: object
) -> None:
    from gr00t.data.dataset import load_dataset

    verdict = _fixture("loader_verdict.json")["datasets"][name]
    if not verdict["ok"]:
        with pytest.raises(UPSTREAM_ERRORS[verdict["error"]["type"]]):
            load_dataset(datasets[name])
        return
    loaded = load_dataset(datasets[name])
    starts = sorted(set(loaded.episode_start.tolist()))
    lengths = [int(loaded.episode_end[loaded.episode_start == s][0] - s) for s in starts]
    assert lengths == [e["rows"] for e in verdict["episodes"]]
    assert all(e["frames"] == e["rows"] for e in verdict["episodes"])
    tasks = [
        sorted({loaded.tasks[int(t)] for t in loaded.task_index[loaded.episode_start == s]}) for s in starts
    ]
    assert tasks == [e["tasks"] for e in verdict["episodes"]]


def _stats_close(ours: dict, theirs: dict, *, exact_rtol: float, moment_rtol: float) -> None:
    for key in theirs:
        for stat, values in theirs[key].items():
            rtol = moment_rtol if stat in ("mean", "std") else exact_rtol
            np.testing.assert_allclose(ours[key][stat], values, rtol=rtol, atol=1e-6, err_msg=f"{key} {stat}")


def test_our_stats_are_upstreams_numbers(tmp_path: Path, datasets: dict[str, Path]) -> None:
    recorded = _fixture("stats_v21.json")
    root = shutil.copytree(datasets["v2.1"], tmp_path / "v21")
    compute_stats(root, force=True)
    ours = json.loads((root / "meta/stats.json").read_text())
    ours_rel = json.loads((root / "meta/relative_stats.json").read_text())
    # min/max/q01/q99 to 1e-5; mean/std differ only by upstream's float32 accumulation (small here).
    _stats_close(ours, json.loads(recorded["stats"]), exact_rtol=1e-5, moment_rtol=1e-5)
    _stats_close(ours_rel, json.loads(recorded["relative_stats"]), exact_rtol=1e-5, moment_rtol=1e-5)
    assert list(ours_rel) == list(json.loads(recorded["relative_stats"]))


def test_standin_stats_are_upstreams(tmp_path: Path, datasets: dict[str, Path], standin: object) -> None:
    from gr00t.data.stats import generate_rel_stats, generate_stats

    recorded = _fixture("stats_v21.json")
    root = shutil.copytree(datasets["v2.1"], tmp_path / "v21")
    for name in ("stats.json", "relative_stats.json"):
        (root / "meta" / name).unlink()
    generate_stats(root)
    generate_rel_stats(root, "unitree_g1")
    # The same float32 numpy calls as upstream: equal but for ulps of the rebuilt data.
    _stats_close(
        json.loads((root / "meta/stats.json").read_text()),
        json.loads(recorded["stats"]),
        exact_rtol=1e-6,
        moment_rtol=1e-6,
    )
    _stats_close(
        json.loads((root / "meta/relative_stats.json").read_text()),
        json.loads(recorded["relative_stats"]),
        exact_rtol=1e-6,
        moment_rtol=1e-6,
    )


def test_upstreams_rewrite_at_launch_changes_no_byte_of_ours() -> None:
    recorded = _fixture("relative_stats_rewrite.json")
    after = recorded["after_launch"]
    # Recorded: upstream rewrote relative_stats.json (and left stats.json) exactly as we had written them.
    assert (
        recorded["ours_sha256"]
        == recorded["after_launch_sha256"]
        == hashlib.sha256(after.encode()).hexdigest()
    )
    assert recorded["stats_ours_sha256"] == recorded["stats_after_launch_sha256"]
    # Our writer produces upstream's bytes for these values.
    assert stats_json_bytes(json.loads(after)) == after.encode()


def test_standin_rewrites_relative_stats_as_upstream(tmp_path: Path, standin: object) -> None:
    from gr00t.data.stats import generate_rel_stats

    after = _fixture("relative_stats_rewrite.json")["after_launch"]
    (tmp_path / "meta").mkdir()
    rel = tmp_path / "meta/relative_stats.json"
    rel.write_text(json.dumps(json.loads(after)))  # same values, another layout
    generate_rel_stats(tmp_path, "unitree_g1")
    assert rel.read_text() == after


def test_freshness_survives_the_launch_rewrite_and_catches_changed_values(
    tmp_path: Path, datasets: dict[str, Path], standin: object
) -> None:
    # Before the fix freshness hashed the bytes: any rewrite made the stats "stale" after every training.
    from gr00t.data.stats import generate_rel_stats, generate_stats

    root = shutil.copytree(datasets["v2.1"], tmp_path / "v21")
    compute_stats(root, force=True)
    rel = root / "meta/relative_stats.json"
    before = rel.read_bytes()
    generate_stats(root)
    generate_rel_stats(root, "unitree_g1")
    assert rel.read_bytes() == before and stats_are_fresh(root)
    rel.write_text(json.dumps(json.loads(before)))  # a rewrite in another layout: values unchanged
    assert stats_are_fresh(root) and not compute_stats(root)["changed"]
    changed = json.loads(before)
    changed["left_arm"]["max"][0][0] += 0.5
    rel.write_text(json.dumps(changed, indent=4))
    assert "stats values were changed" in " ".join(stats_problems(root))
    redo = compute_stats(root)
    assert redo["changed"] and rel.read_bytes() == before and stats_are_fresh(root)


def _teleop_close(ours: dict, theirs: dict) -> None:
    """Order statistics bit for bit; mean/std within upstream's float32 accumulation (measured below 6e-5
    relative on near-zero relative means, hence an absolute floor)."""
    assert list(ours) == list(theirs)
    for key in theirs:
        assert list(ours[key]) == list(theirs[key])
        for stat, values in theirs[key].items():
            assert np.shape(ours[key][stat]) == np.shape(values), (key, stat)
            if stat in ("mean", "std"):
                np.testing.assert_allclose(
                    ours[key][stat], values, rtol=1e-4, atol=1e-6, err_msg=f"{key} {stat}"
                )
            else:
                np.testing.assert_array_equal(ours[key][stat], values, err_msg=f"{key} {stat}")


def test_new_embodiment_stats_are_upstreams_numbers(tmp_path: Path) -> None:
    from groot_ops.data.relative import config_spec
    from groot_ops.train.modality_config import parse_modality_config
    from tests.data_factory import TELEOP_CONFIG, teleop_dataset

    recorded = _fixture("stats_new_embodiment.json")
    # The fixture was recorded with this very config: a changed file needs a new recording.
    assert recorded["config_sha256"] == hashlib.sha256(TELEOP_CONFIG.read_text().encode()).hexdigest()
    root = teleop_dataset(tmp_path / "teleop")
    compute_stats(root, relative=config_spec(parse_modality_config(TELEOP_CONFIG), root))
    _teleop_close(json.loads((root / "meta/stats.json").read_text()), json.loads(recorded["stats"]))
    relative = json.loads((root / "meta/relative_stats.json").read_text())
    # generate_rel_stats under the teleop config: the RELATIVE arms only, (16, 7) each.
    assert list(relative) == ["left_arm", "right_arm"]
    _teleop_close(relative, json.loads(recorded["relative_stats"]))


def test_standin_new_embodiment_stats_are_upstreams(tmp_path: Path, standin: object) -> None:
    import importlib

    from gr00t.configs.data import embodiment_configs
    from gr00t.data.stats import generate_rel_stats, generate_stats

    from tests.data_factory import TELEOP_CONFIG, teleop_dataset

    recorded = _fixture("stats_new_embodiment.json")
    root = teleop_dataset(tmp_path / "teleop")
    saved = dict(embodiment_configs.MODALITY_CONFIGS)
    sys.path.append(str(TELEOP_CONFIG.parent))
    try:
        # launch_finetune.py load_modality_config: imported by stem, registering NEW_EMBODIMENT.
        importlib.import_module(TELEOP_CONFIG.stem)
        generate_stats(root)
        generate_rel_stats(root, "new_embodiment")
    finally:
        sys.path.remove(str(TELEOP_CONFIG.parent))
        sys.modules.pop(TELEOP_CONFIG.stem, None)
        embodiment_configs.MODALITY_CONFIGS.clear()
        embodiment_configs.MODALITY_CONFIGS.update(saved)
    _stats_close(
        json.loads((root / "meta/stats.json").read_text()),
        json.loads(recorded["stats"]),
        exact_rtol=1e-6,
        moment_rtol=1e-6,
    )
    relative = json.loads((root / "meta/relative_stats.json").read_text())
    assert list(relative) == list(json.loads(recorded["relative_stats"]))
    _stats_close(relative, json.loads(recorded["relative_stats"]), exact_rtol=1e-6, moment_rtol=1e-6)
