"""stats: the contract's numbers (checked against a naive numpy transcription), freshness, idempotence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from groot_ops.data.fingerprint import stats_are_fresh, stats_problems
from groot_ops.data.stats import compute_stats, quantiles
from tests.data_factory import LENGTHS, copy_tree, rewrite_column, tree_state

HORIZON = 30


def naive_reference(root: Path) -> tuple[dict, dict]:
    """The contract's definitions written the obvious way: all rows, all chunks, np.* on float32."""
    episodes = [json.loads(line) for line in (root / "meta/episodes.jsonl").read_text().splitlines()]
    tables = [
        pq.read_table(root / f"data/chunk-000/episode_{e['episode_index']:06d}.parquet") for e in episodes
    ]
    stats = {}
    for column in ("observation.state", "action", "timestamp"):
        rows = [r if isinstance(r, list) else [r] for t in tables for r in t.column(column).to_pylist()]
        x = np.array(rows, dtype=np.float32)
        q = np.quantile(x, [0.01, 0.99], axis=0)
        stats[column] = {
            "mean": np.mean(x, axis=0),
            "std": np.std(x, axis=0),
            "min": np.min(x, axis=0),
            "max": np.max(x, axis=0),
            "q01": q[0],
            "q99": q[1],
        }
    relative = {}
    for group, (s0, s1), (a0, a1) in (("left_arm", (15, 22), (0, 7)), ("right_arm", (22, 29), (7, 14))):
        chunks = []
        for table in tables:
            state = np.array(table.column("observation.state").to_pylist(), dtype=np.float32)
            action = np.array(table.column("action").to_pylist(), dtype=np.float32)
            for t in range(len(state) - HORIZON + 1):
                chunks.append(action[t : t + HORIZON, a0:a1] - state[t, s0:s1])
        c = np.stack(chunks)
        q = np.quantile(c, [0.01, 0.99], axis=0)
        relative[group] = {
            "max": c.max(axis=0),
            "min": c.min(axis=0),
            "q01": q[0],
            "q99": q[1],
            "mean": c.mean(axis=0),
            "std": c.std(axis=0),
        }
    return stats, relative


@pytest.fixture
def dataset(tmp_path: Path, groot_v21: Path) -> Path:
    return copy_tree(groot_v21, tmp_path / "ds")


def test_numbers_match_the_naive_reference(dataset: Path) -> None:
    result = compute_stats(dataset)
    assert result["changed"] and not result["fresh_before"] and result["frames"] == sum(LENGTHS)
    stats = json.loads((dataset / "meta/stats.json").read_text())
    relative = json.loads((dataset / "meta/relative_stats.json").read_text())
    ref_stats, ref_relative = naive_reference(dataset)
    assert sorted(stats) == ["action", "observation.state", "timestamp"]
    for column, entry in ref_stats.items():
        assert sorted(stats[column]) == sorted(entry)
        for key, expected in entry.items():
            np.testing.assert_allclose(
                stats[column][key], expected, rtol=1e-5, atol=1e-6, err_msg=f"{column} {key}"
            )
    assert list(relative) == ["left_arm", "right_arm"]
    for group, entry in ref_relative.items():
        for key, expected in entry.items():
            assert np.shape(relative[group][key]) == (30, 7)
            np.testing.assert_allclose(
                relative[group][key], expected, rtol=1e-5, atol=1e-6, err_msg=f"{group} {key}"
            )


@pytest.mark.parametrize("n", [1, 2, 3, 100, 101, 1000])
def test_quantiles_match_numpy(n: int) -> None:
    row = np.random.default_rng(n).normal(size=n).astype(np.float32)
    np.testing.assert_allclose(quantiles(row.copy(), (0.01, 0.99)), np.quantile(row, [0.01, 0.99]), rtol=1e-6)


def test_fresh_stats_are_kept_and_stale_ones_recomputed(dataset: Path) -> None:
    assert not stats_are_fresh(dataset)
    compute_stats(dataset)
    assert stats_are_fresh(dataset)
    before = tree_state(dataset)
    again = compute_stats(dataset)
    assert not again["changed"] and again["fresh_before"]
    assert tree_state(dataset) == before
    # The data changes under the stats (a re-conversion, a hand edit): they must be seen as stale.
    episode = dataset / "data/chunk-000/episode_000000.parquet"
    table = pq.read_table(episode)
    state = np.array(table.column("observation.state").to_pylist(), dtype=np.float32) + 1.0
    rewrite_column(
        episode, "observation.state", pa.FixedSizeListArray.from_arrays(pa.array(state.ravel()), 31)
    )
    assert not stats_are_fresh(dataset)
    assert "fingerprint mismatch" in " ".join(stats_problems(dataset))
    check = compute_stats(dataset, check=True)
    assert check["changed"] and not stats_are_fresh(dataset)
    redo = compute_stats(dataset)
    assert redo["changed"] and not redo["fresh_before"] and stats_are_fresh(dataset)
    mean = json.loads((dataset / "meta/stats.json").read_text())["observation.state"]["mean"]
    np.testing.assert_allclose(mean, naive_reference(dataset)[0]["observation.state"]["mean"], rtol=1e-5)


def test_hand_edited_or_foreign_stats_are_not_fresh(dataset: Path) -> None:
    compute_stats(dataset)
    stats = json.loads((dataset / "meta/stats.json").read_text())
    del stats["action"]["q01"]
    (dataset / "meta/stats.json").write_text(json.dumps(stats))
    assert "changed after" in " ".join(stats_problems(dataset))
    (dataset / "meta/groot_ops.json").unlink()
    assert "unknown origin" in " ".join(stats_problems(dataset))
    assert compute_stats(dataset)["changed"] and stats_are_fresh(dataset)


def test_force_recomputes(dataset: Path) -> None:
    compute_stats(dataset)
    assert compute_stats(dataset, force=True)["changed"]


def test_full_disk_for_the_scratch_file_is_named_and_keeps_the_old_stats(
    dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    from groot_ops.errors import GrootOpsError

    compute_stats(dataset)
    before = tree_state(dataset)

    def full(*_args: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "pwrite", full)
    with pytest.raises(GrootOpsError, match=r"cannot write the stats scratch file .* No space left"):
        compute_stats(dataset, force=True)
    assert tree_state(dataset) == before and stats_are_fresh(dataset)
