"""Normalization statistics the way n1.6.1 computes them (meta/stats.json, meta/relative_stats.json)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from gr00t.data.dataset import GrootDataset
from gr00t.data.embodiment import ACTION_HORIZON, RELATIVE_ACTION_KEYS, STATE_COLUMN


def describe(values: np.ndarray) -> dict[str, list]:
    values = values.astype(np.float32)
    return {
        "mean": np.mean(values, axis=0).tolist(),
        "std": np.std(values, axis=0).tolist(),
        "min": np.min(values, axis=0).tolist(),
        "max": np.max(values, axis=0).tolist(),
        "q01": np.quantile(values, 0.01, axis=0).tolist(),
        "q99": np.quantile(values, 0.99, axis=0).tolist(),
    }


def generate_stats(dataset: GrootDataset) -> dict:
    import pyarrow.parquet as pq

    stats: dict[str, dict] = {}
    features = dataset.info.get("features", {})
    for name, feature in features.items():
        if "float" not in str(feature.get("dtype", "")):
            continue
        if name == STATE_COLUMN:
            stats[name] = describe(dataset.state)
        elif name == "action":
            stats[name] = describe(dataset.action)
        else:
            columns = []
            for episode in dataset.episodes:
                index = int(episode["episode_index"])
                chunk = index // int(dataset.info["chunks_size"])
                path = dataset.root / dataset.info["data_path"].format(
                    episode_chunk=chunk, episode_index=index
                )
                columns.append(np.asarray(pq.read_table(path).column(name).to_pylist(), dtype=np.float32))
            stats[name] = describe(np.concatenate(columns).reshape(-1, 1))
    return stats


def generate_rel_stats(dataset: GrootDataset) -> dict:
    state_ranges = dataset.state_ranges()
    action_ranges = dataset.action_ranges()
    result = {}
    for key in sorted(RELATIVE_ACTION_KEYS):
        s0, s1 = state_ranges[key]
        a0, a1 = action_ranges[key]
        chunks = []
        for start in np.unique(dataset.episode_start):
            end = int(dataset.episode_end[start])
            for t in range(int(start), end - ACTION_HORIZON + 1):
                chunks.append(dataset.action[t : t + ACTION_HORIZON, a0:a1] - dataset.state[t, s0:s1])
        if not chunks:
            raise AssertionError(f"{dataset.root}: no episode is {ACTION_HORIZON} frames long")
        stacked = np.stack(chunks)
        result[key] = {
            "max": np.max(stacked, axis=0).tolist(),
            "min": np.min(stacked, axis=0).tolist(),
            "q01": np.quantile(stacked, 0.01, axis=0).tolist(),
            "q99": np.quantile(stacked, 0.99, axis=0).tolist(),
            "mean": np.mean(stacked, axis=0).tolist(),
            "std": np.std(stacked, axis=0).tolist(),
        }
    return result


def stale_stats_problems(root: Path) -> list[str]:
    """Refuse stats that groot-ops recorded for other data.

    Upstream silently reuses stale stats; the stand-in is stricter on purpose, but only when
    the dataset carries a groot-ops stats record (``meta/groot_ops.json``), so that hand-made datasets
    behave like upstream.
    """
    record_path = root / "meta" / "groot_ops.json"
    try:
        record = json.loads(record_path.read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(record, dict) or not isinstance(record.get("stats"), dict):
        return []
    from groot_ops.data.fingerprint import stats_problems  # the environment the pipeline trains in has it

    return stats_problems(root)


def _write_json(path: Path, payload: dict) -> None:
    # Other ranks wait at a barrier and then read: never let them see a half-written file.
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    tmp.replace(path)


def generate_missing_stats(dataset: GrootDataset, *, log) -> None:
    """Write missing stats files like upstream's trainer does at start-up (main rank only)."""
    meta = dataset.root / "meta"
    if not (meta / "stats.json").is_file():
        log(f"Generating dataset statistics for {dataset.root} (meta/stats.json missing)")
        _write_json(meta / "stats.json", generate_stats(dataset))
    if not (meta / "relative_stats.json").is_file():
        log(f"Generating relative action statistics for {dataset.root}")
        _write_json(meta / "relative_stats.json", generate_rel_stats(dataset))


def load_stats(dataset: GrootDataset) -> tuple[dict, dict]:
    meta = dataset.root / "meta"
    return json.loads((meta / "stats.json").read_text()), json.loads(
        (meta / "relative_stats.json").read_text()
    )
