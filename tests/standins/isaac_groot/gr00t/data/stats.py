"""Normalization statistics as n1.6.1 computes and (re)writes them (meta/stats.json, relative_stats.json).

Held against upstream's own output (tests/fixtures/upstream/data/): the numbers of ``generate_stats``
and ``generate_rel_stats`` on a converted dataset, and the bytes of ``relative_stats.json`` after the
rewrite every training launch does. Upstream never checks whether existing stats belong to the data
(stale stats are silently reused): neither does this stand-in; groot-ops must prevent it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from gr00t.data.dataset import GrootDataset, load_dataset, read_json
from gr00t.data.embodiment import ACTION_HORIZON

STATS_FILE = "meta/stats.json"
REL_STATS_FILE = "meta/relative_stats.json"
STAT_KEYS = ("mean", "std", "min", "max", "q01", "q99")


def _float_features(dataset_path: Path) -> list[str]:
    features = read_json(dataset_path / "meta/info.json")["features"]
    # gr00t/data/stats.py generate_stats: every feature whose dtype contains "float" (KeyError without one).
    return [name for name, feature in features.items() if "float" in feature["dtype"]]


def check_stats_validity(dataset_path: Path, features: list[str]) -> bool:
    """gr00t/data/stats.py check_stats_validity: present and complete, never compared with the data."""
    path = Path(dataset_path) / STATS_FILE
    if not path.exists():
        return False
    stats = json.loads(path.read_text())
    return all(isinstance(stats.get(f), dict) and all(k in stats[f] for k in STAT_KEYS) for f in features)


def _describe(values: np.ndarray) -> dict[str, list]:
    # gr00t/data/stats.py calculate_dataset_statistics: float32 rows, np.* along axis 0 (float32 sums).
    return {
        "mean": np.mean(values, axis=0).tolist(),
        "std": np.std(values, axis=0).tolist(),
        "min": np.min(values, axis=0).tolist(),
        "max": np.max(values, axis=0).tolist(),
        "q01": np.quantile(values, 0.01, axis=0).tolist(),
        "q99": np.quantile(values, 0.99, axis=0).tolist(),
    }


def generate_stats(dataset_path: str | Path) -> None:
    """gr00t/data/stats.py generate_stats: skipped when stats.json is complete, else computed and written."""
    import pyarrow.parquet as pq

    root = Path(dataset_path)
    features = _float_features(root)
    if check_stats_validity(root, features):
        return
    # LE_ROBOT_DATA_FILENAME "data/*/*.parquet", sorted: every parquet file, listed in episodes.jsonl or not.
    tables = [pq.read_table(p) for p in sorted(root.glob("data/*/*.parquet"))]
    stats = {}
    for name in features:
        rows = [np.asarray(x, dtype=np.float32) for t in tables for x in t.column(name).to_pylist()]
        stats[name] = _describe(np.vstack(rows))
    with open(root / STATS_FILE, "w") as handle:
        json.dump(stats, handle, indent=4)


def _relative_chunks(
    dataset: GrootDataset, key: str, state_key: str | None = None, horizon: int = ACTION_HORIZON
) -> np.ndarray:
    """(chunks, horizon, dims) float32: gr00t/data/stats.py RelativeActionLoader.load_relative_actions
    (the ActionConfig's state_key, else the action key; horizon = len(action delta_indices))."""
    s0, s1 = dataset.state_ranges()[state_key or key]
    a0, a1 = dataset.action_ranges()[key]
    chunks = []
    for start in np.unique(dataset.episode_start):
        end = int(dataset.episode_end[start])
        # usable_length = len(df) - delta_indices[-1]; the state at step i is the reference.
        for t in range(int(start), end - horizon + 1):
            state = dataset.state[t, s0:s1].astype(np.float64)
            chunks.append(dataset.action[t : t + horizon, a0:a1].astype(np.float64) - state)
    return np.asarray(chunks, dtype=np.float32)


def generate_rel_stats(dataset_path: str | Path, embodiment_tag: Any) -> None:
    """gr00t/data/stats.py generate_rel_stats, called on rank 0 at every training launch.

    Loads an existing relative_stats.json, computes only the RELATIVE action keys it lacks, and always
    writes the file again with ``json.dump(..., indent=4)`` (no trailing newline), values unchanged.
    """
    root = Path(dataset_path)
    from gr00t.configs.data.embodiment_configs import MODALITY_CONFIGS
    from gr00t.data.types import ActionRepresentation

    tag = getattr(embodiment_tag, "value", embodiment_tag)
    action_config = MODALITY_CONFIGS[tag]["action"]  # KeyError for an unregistered tag, as upstream
    specs = dict(zip(action_config.modality_keys, action_config.action_configs or [], strict=False))
    relative_keys = [key for key, spec in specs.items() if spec.rep is ActionRepresentation.RELATIVE]
    horizon = len(action_config.delta_indices)
    # UNITREE_G1 loads its built-in groups; a registered config its own keys (RelativeActionLoader).
    configs = None if tag == "unitree_g1" else MODALITY_CONFIGS[tag]
    path = root / REL_STATS_FILE
    stats = json.loads(path.read_text()) if path.exists() else {}
    dataset = None
    for key in sorted(relative_keys):
        if key in stats:
            continue
        if dataset is None:
            # RelativeActionLoader builds a LeRobotEpisodeLoader, which asserts that stats.json exists.
            if not (root / STATS_FILE).exists():
                raise AssertionError(f"{root / STATS_FILE} does not exist for {root}")
            dataset = load_dataset(root, check_videos=False, configs=configs)
        chunks = _relative_chunks(dataset, key, specs[key].state_key, horizon)
        if chunks.size == 0:
            raise ValueError(f"{root}: no episode is {horizon} frames long (np.max of an empty list)")
        stats[key] = {
            "max": np.max(chunks, axis=0).tolist(),
            "min": np.min(chunks, axis=0).tolist(),
            "q01": np.quantile(chunks, 0.01, axis=0).tolist(),
            "q99": np.quantile(chunks, 0.99, axis=0).tolist(),
            "mean": np.mean(chunks, axis=0).tolist(),
            "std": np.std(chunks, axis=0).tolist(),
        }
    with open(path, "w") as handle:
        json.dump(stats, handle, indent=4)


def load_stats(dataset: GrootDataset) -> tuple[dict, dict]:
    meta = dataset.root / "meta"
    return json.loads((meta / "stats.json").read_text()), json.loads(
        (meta / "relative_stats.json").read_text()
    )
