"""``meta/stats.json`` and ``meta/relative_stats.json`` with the GR00T n1.6.1 semantics, fast and bounded.

Definitions (contract section 4): every float feature over all rows, cast to float32: mean, population
std, min, max and linear-interpolated 1%/99% quantiles per dimension. Relative stats for the
``left_arm``/``right_arm`` action groups: every chunk ``action[t:t+30] - state[t]`` of every episode
(t in 0..length-30), stats over chunks per (step, dimension).

Memory: the float columns are held once, transposed to (dimension, frames) float32 (~38 MB for the
31-dim state of 310k frames). Relative chunks are never materialised as (chunks, 30, 7): one horizon
step at a time gives a (7, chunks) block, the same numbers with 1/30 of the memory. Quantiles use
``np.partition`` on contiguous rows, which is what ``np.quantile`` does, minus its copies.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from groot_ops.atomic import write_json
from groot_ops.data import schema
from groot_ops.data.convert import workers
from groot_ops.data.fingerprint import read_record, stats_problems, stats_record, write_record
from groot_ops.data.rawread import column_matrix, feature_width, read_jsonl, read_parquet
from groot_ops.errors import InputError


def _linear(part_lo: float, part_hi: float, frac: float) -> float:
    # numpy's _lerp, so results agree with np.quantile to the last bit in most cases.
    diff = part_hi - part_lo
    return part_lo + diff * frac if frac < 0.5 else part_hi - diff * (1 - frac)


def _order_statistics(row: np.ndarray, ranks: list[int]) -> dict[int, float]:
    """Exact k-th smallest values of ``row`` for every k in ``ranks``.

    Only the tails are needed for q01/q99. A strided sample gives a bound that keeps a little more
    than the needed tail; every value beyond the bound is selected with one comparison and only that
    small subset is partitioned. Values equal to the bound are all kept, so the subset is exactly
    the ``count`` smallest (or largest) values and its order statistics are the row's. When the
    sample misjudges the bound, the whole row is partitioned instead.
    """
    n = row.size
    out: dict[int, float] = {}
    low = sorted(k for k in ranks if k < n / 2)
    high = sorted(k for k in ranks if k >= n / 2)
    if n < 8192:
        part = np.partition(row, sorted(set(ranks)))
        return {k: float(part[k]) for k in ranks}
    step = max(1, n // 4096)
    sample = np.sort(row[::step])
    if low:
        need = low[-1] + 1
        guess = min(sample.size - 1, int(need / n * sample.size * 1.5) + 8)
        subset = row[row <= sample[guess]]
        if subset.size >= need:
            part = np.partition(subset, low)
            out.update({k: float(part[k]) for k in low})
        else:
            part = np.partition(row, low)
            out.update({k: float(part[k]) for k in low})
    if high:
        need = n - high[0]
        guess = max(0, sample.size - 1 - int(need / n * sample.size * 1.5) - 8)
        subset = row[row >= sample[guess]]
        if subset.size >= need:
            offset = n - subset.size
            part = np.partition(subset, [k - offset for k in high])
            out.update({k: float(part[k - offset]) for k in high})
        else:
            part = np.partition(row, high)
            out.update({k: float(part[k]) for k in high})
    return out


def quantiles(row: np.ndarray, probs: tuple[float, ...]) -> list[float]:
    """numpy's default ("linear") quantiles of a 1-D array."""
    n = row.size
    positions = [p * (n - 1) for p in probs]
    ranks = sorted(
        {int(np.floor(x)) for x in positions} | {min(int(np.floor(x)) + 1, n - 1) for x in positions}
    )
    values = _order_statistics(row, ranks)
    out = []
    for x in positions:
        lo = int(np.floor(x))
        out.append(_linear(values[lo], values[min(lo + 1, n - 1)], x - lo))
    return out


def row_stats(block: np.ndarray) -> dict[str, list[float]]:
    """Stats of each row of a (dims, n) float32 block: float64 accumulation, exact quantiles."""
    n = block.shape[1]
    mean = np.empty(block.shape[0], dtype=np.float64)
    std = np.empty_like(mean)
    # Two-pass variance in float64, a few rows at a time to bound the temporary (~16 MB).
    rows_per_pass = max(1, (16 << 20) // max(1, n * 8))
    for first in range(0, block.shape[0], rows_per_pass):
        rows = slice(first, first + rows_per_pass)
        part = block[rows].astype(np.float64)
        mean[rows] = part.mean(axis=1)
        part -= mean[rows, None]
        std[rows] = np.sqrt(np.einsum("ij,ij->i", part, part) / n)
    q = [quantiles(row, (0.01, 0.99)) for row in block]
    return {
        "mean": mean.tolist(),
        "std": std.tolist(),
        "min": block.min(axis=1).astype(np.float64).tolist(),
        "max": block.max(axis=1).astype(np.float64).tolist(),
        "q01": [a for a, _ in q],
        "q99": [b for _, b in q],
    }


def _episodes(root: Path, info: dict[str, Any]) -> list[tuple[int, int, Path]]:
    chunks_size = int(info.get("chunks_size", schema.CHUNKS_SIZE))
    out = []
    for row in read_jsonl(root / "meta/episodes.jsonl"):
        index, length = int(row["episode_index"]), int(row["length"])
        chunk = index // chunks_size
        fmt = {"episode_chunk": chunk, "episode_index": index, "chunk_index": chunk}
        out.append((index, length, root / info["data_path"].format(**fmt)))
    return out


def _relative_groups(root: Path) -> dict[str, tuple[slice, slice]]:
    path = root / "meta/modality.json"
    try:
        modality = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read modality.json: {exc}", path=str(path)) from exc
    groups = {}
    for name in schema.RELATIVE_GROUPS:
        try:
            s, a = modality["state"][name], modality["action"][name]
        except KeyError:
            raise InputError(f"modality.json lacks state/action group {name}", path=str(path)) from None
        groups[name] = (slice(s["start"], s["end"]), slice(a["start"], a["end"]))
    return groups


def load_columns(root: Path) -> tuple[dict[str, np.ndarray], list[int]]:
    """Every float feature as a (dims, frames) float32 array, and the episode lengths in file order."""
    info_path = root / "meta/info.json"
    try:
        info = json.loads(info_path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read info.json: {exc}", path=str(info_path)) from exc
    names = schema.float_features(info)
    widths = {name: feature_width(info["features"][name]) for name in names}
    episodes = _episodes(root, info)
    total = sum(length for _, length, _ in episodes)
    columns = {name: np.empty((widths[name], total), dtype=np.float32) for name in names}
    offsets = np.cumsum([0] + [length for _, length, _ in episodes[:-1]]).tolist()

    def load(item: tuple[int, tuple[int, int, Path]]) -> None:
        offset, (index, length, path) = item
        table = read_parquet(path, columns=names, episode=index)
        if table.num_rows != length:
            raise InputError(
                f"{table.num_rows} rows but episodes.jsonl says length {length}",
                path=str(path),
                episode=index,
            )
        for name in names:
            columns[name][:, offset : offset + length] = column_matrix(
                table, name, widths[name], path=path, episode=index
            ).T

    # Episodes fill disjoint slices, so threads need no locking; pyarrow and numpy release the GIL.
    with ThreadPoolExecutor(workers()) as pool:
        list(pool.map(load, zip(offsets, episodes, strict=True)))
    return columns, [length for _, length, _ in episodes]


def relative_stats(
    state: np.ndarray,
    action: np.ndarray,
    lengths: list[int],
    groups: dict[str, tuple[slice, slice]],
    horizon: int,
) -> dict[str, dict[str, list[list[float]]]]:
    starts_list = []
    offset = 0
    for length in lengths:
        if length >= horizon:
            starts_list.append(np.arange(offset, offset + length - horizon + 1))
        offset += length
    starts = np.concatenate(starts_list) if starts_list else np.empty(0, dtype=np.int64)
    out: dict[str, dict[str, list[list[float]]]] = {}
    for name in sorted(groups):
        if starts.size == 0:
            raise InputError(f"no episode is at least {horizon} frames long: relative stats undefined")
        state_slice, action_slice = groups[name]
        # np.take keeps C order; fancy indexing on axis 1 gives F order, making row reductions strided.
        base = np.take(state[state_slice], starts, axis=1)
        arm = action[action_slice]
        steps: dict[str, list[list[float]]] = {k: [] for k in ("max", "min", "q01", "q99", "mean", "std")}
        for step in range(horizon):
            block = np.take(arm, starts + step, axis=1)
            block -= base
            per_dim = row_stats(block)
            for key in steps:
                steps[key].append(per_dim[key])
        out[name] = steps
    return out


def _current(root: Path, horizon: int) -> dict[str, Any]:
    return {
        "fresh": not stats_problems(root, horizon=horizon),
        "problems": stats_problems(root, horizon=horizon),
    }


def compute_stats(
    dataset_dir: str | os.PathLike[str],
    *,
    check: bool = False,
    force: bool = False,
    horizon: int = schema.ACTION_HORIZON,
) -> dict[str, Any]:
    """Write fresh stats unless the recorded ones already belong to the current data."""
    root = Path(dataset_dir)
    if not (root / "meta/info.json").is_file():
        raise InputError("not a dataset: meta/info.json missing", path=str(root / "meta/info.json"))
    problems = stats_problems(root, horizon=horizon)
    fresh_before = not problems
    record = read_record(root)
    if fresh_before and not force:
        return {
            "changed": False,
            "fresh_before": True,
            "fingerprint": record["stats"]["fingerprint"],
            "frames": None,
            "diff": {},
        }
    diff = {
        "before": {"stats": "fresh" if fresh_before else "; ".join(problems)},
        "after": {"stats": "fresh"},
    }
    if check:
        return {
            "changed": True,
            "fresh_before": fresh_before,
            "fingerprint": None,
            "frames": None,
            "diff": diff,
        }
    columns, lengths = load_columns(root)
    if schema.STATE_KEY not in columns or schema.ACTION_KEY not in columns:
        raise InputError(
            "observation.state and action must be float features for relative stats",
            path=str(root / "meta/info.json"),
        )
    # Computed one feature and one group at a time: running them in threads did not pay for the
    # extra ~50 MB of concurrent temporaries on 2 cores.
    stats = {name: row_stats(block) for name, block in columns.items()}
    rel = relative_stats(
        columns[schema.STATE_KEY], columns[schema.ACTION_KEY], lengths, _relative_groups(root), horizon
    )
    write_json(root / "meta/stats.json", stats)
    write_json(root / "meta/relative_stats.json", rel)
    new = stats_record(root, horizon=horizon)
    write_record(root, {**read_record(root), "stats": new})
    return {
        "changed": True,
        "fresh_before": fresh_before,
        "fingerprint": new["fingerprint"],
        "frames": int(sum(lengths)),
        "diff": diff,
    }
