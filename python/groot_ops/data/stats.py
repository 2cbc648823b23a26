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
from pathlib import Path
from typing import Any

import numpy as np

from groot_ops.atomic import write_json
from groot_ops.data import schema
from groot_ops.data.fingerprint import read_record, stats_problems, stats_record, write_record
from groot_ops.data.rawread import column_matrix, feature_width, read_jsonl, read_parquet
from groot_ops.errors import InputError


def quantiles(row: np.ndarray, probs: tuple[float, ...]) -> list[float]:
    """numpy's default ("linear") quantiles of a 1-D array, via one partition."""
    n = row.size
    positions = [p * (n - 1) for p in probs]
    kth = sorted(
        {int(np.floor(x)) for x in positions} | {min(int(np.floor(x)) + 1, n - 1) for x in positions}
    )
    part = np.partition(row, kth)
    out = []
    for x in positions:
        lo = int(np.floor(x))
        hi = min(lo + 1, n - 1)
        a, b = float(part[lo]), float(part[hi])
        frac = x - lo
        # Same lerp as numpy's _lerp, so results agree to the last bit in most cases.
        out.append(a + (b - a) * frac if frac < 0.5 else b - (b - a) * (1 - frac))
    return out


def row_stats(block: np.ndarray) -> dict[str, list[float]]:
    """Stats of each row of a (dims, n) float32 block: float64 accumulation, exact quantiles."""
    out: dict[str, list[float]] = {k: [] for k in ("mean", "std", "min", "max", "q01", "q99")}
    for row in block:
        mean = float(row.mean(dtype=np.float64))
        centered = row.astype(np.float64) - mean
        out["mean"].append(mean)
        out["std"].append(float(np.sqrt(np.mean(centered * centered))))
        out["min"].append(float(row.min()))
        out["max"].append(float(row.max()))
        q01, q99 = quantiles(row, (0.01, 0.99))
        out["q01"].append(q01)
        out["q99"].append(q99)
    return out


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
    offset = 0
    for index, length, path in episodes:
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
        offset += length
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
        base = state[state_slice][:, starts]
        arm = action[action_slice]
        steps: dict[str, list[list[float]]] = {k: [] for k in ("max", "min", "q01", "q99", "mean", "std")}
        for step in range(horizon):
            block = arm[:, starts + step] - base
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
    stats = {name: row_stats(block) for name, block in columns.items()}
    if schema.STATE_KEY not in columns or schema.ACTION_KEY not in columns:
        raise InputError(
            "observation.state and action must be float features for relative stats",
            path=str(root / "meta/info.json"),
        )
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
