"""The bounded-memory stats engine: exactly np.quantile, np.min, np.max, float64 mean and std, all paths."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from groot_ops.data import exact_stats
from groot_ops.data.exact_stats import ColumnStats, float_keys, key_floats


def _run(values: np.ndarray, cuts: list[int], **kwargs: object) -> ColumnStats:
    """Feed ``values`` (rows, width) in blocks split at ``cuts`` until the accumulator is done."""
    rows, width = values.shape
    stats = ColumnStats(width, rows, name="test", **kwargs)  # type: ignore[arg-type]
    bounds = [0, *sorted(set(cuts) - {0, rows}), rows]
    while not stats.done:
        for first, end in itertools.pairwise(bounds):
            block = np.ascontiguousarray(values[first:end].T)
            if stats.sampling:
                stats.add_sample(block[:, stats.sample_slice(first, end - first)], first)
            else:
                stats.merge(stats.scan(block, first))
        stats.end_pass()
    return stats


def _assert_exact(values: np.ndarray, stats: ColumnStats) -> None:
    found = stats.result()
    quantiles = np.quantile(values, [0.01, 0.99], axis=0)
    np.testing.assert_array_equal(found["min"], values.min(axis=0))
    np.testing.assert_array_equal(found["max"], values.max(axis=0))
    # The same order statistics, interpolated with numpy's formula (float64 here, float32 in numpy).
    np.testing.assert_allclose(found["q01"], quantiles[0], rtol=1e-6, atol=0)
    np.testing.assert_allclose(found["q99"], quantiles[1], rtol=1e-6, atol=0)
    wide = values.astype(np.float64)
    np.testing.assert_allclose(found["mean"], wide.mean(axis=0), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(found["std"], wide.std(axis=0), rtol=1e-10, atol=1e-300)


def _data(kind: str, rows: int, rng: np.random.Generator) -> np.ndarray:
    shape = (rows, 3)
    if kind == "normal":
        out = rng.normal(size=shape)
    elif kind == "ties":  # a gripper: half the time exactly closed
        out = np.where(rng.random(shape) < 0.5, 0.0, rng.uniform(0, 5.4, shape))
    elif kind == "integers":
        out = rng.integers(0, 3, shape).astype(float)
    elif kind == "signed-zeros":
        rare = (rng.random(shape) < 0.05) * rng.normal(size=shape)
        out = np.where(rng.random(shape) < 0.5, -0.0, 0.0) + rare
    elif kind == "heavy-tails":
        out = rng.standard_cauchy(shape)
    else:
        raise AssertionError(kind)
    return out.astype(np.float32)


@pytest.mark.parametrize("kind", ["normal", "ties", "integers", "signed-zeros", "heavy-tails"])
@pytest.mark.parametrize("rows", [1, 2, 3, 101, 5000, 60000])
def test_matches_numpy(kind: str, rows: int) -> None:
    rng = np.random.default_rng(rows)
    values = _data(kind, rows, rng)
    stats = _run(values, rng.integers(0, rows, 6).tolist())
    _assert_exact(values, stats)


def test_ranks_narrowed_over_several_passes_when_nothing_may_be_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    # Keeping nothing forces the histogram path: each pass narrows the bracket to one bucket.
    monkeypatch.setattr(exact_stats, "BUCKET_BITS", 4)
    monkeypatch.setattr(exact_stats, "_BUCKETS", 16)
    values = _data("normal", 40000, np.random.default_rng(1))
    stats = _run(values, [9999, 20000], keep_budget=0)
    assert stats.passes > 3
    _assert_exact(values, stats)


def test_a_sample_misjudging_the_bracket_costs_a_pass_not_exactness(monkeypatch: pytest.MonkeyPatch) -> None:
    # A negative margin puts every bracket beside its rank: the counts must notice and look again.
    monkeypatch.setattr(exact_stats, "MARGIN_SIGMAS", -20.0)
    values = _data("normal", 50000, np.random.default_rng(2))
    stats = _run(values, [123, 30000])
    assert stats.passes > 2
    _assert_exact(values, stats)


def test_a_budget_overrun_falls_back_to_counting(monkeypatch: pytest.MonkeyPatch) -> None:
    values = _data("ties", 50000, np.random.default_rng(3))
    stats = _run(values, [25000], keep_budget=64)
    _assert_exact(values, stats)


def test_kept_values_stay_within_the_budget() -> None:
    values = _data("normal", 200000, np.random.default_rng(4))
    budget = 20000
    stats = ColumnStats(3, values.shape[0], name="test", keep_budget=budget)
    block = np.ascontiguousarray(values.T)
    stats.add_sample(block[:, stats.sample_slice(0, block.shape[1])], 0)
    stats.end_pass()
    assert sum(job.expected for job in stats.jobs if job.keep) <= budget
    part = stats.scan(block, 0)
    assert sum(values.size for _, values in part.kept) <= 2 * budget


def test_nan_is_refused_with_the_column() -> None:
    values = np.zeros((100, 2), dtype=np.float32)
    values[50, 1] = np.nan
    with pytest.raises(Exception, match=r"NaN values in test \(dimension 1\)"):
        _run(values, [])


def test_keys_order_like_floats() -> None:
    floats = np.array([-np.inf, -3.5, -1e-40, -0.0, 0.0, 1e-45, 2.0, np.inf], dtype=np.float32)
    keys = float_keys(floats)
    assert list(keys) == sorted(keys) and keys[3] == keys[4]
    np.testing.assert_array_equal(key_floats(keys)[[0, 1, 2, 5, 6, 7]], floats[[0, 1, 2, 5, 6, 7]])
