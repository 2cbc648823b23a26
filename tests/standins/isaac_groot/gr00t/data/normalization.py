"""Normalization shared by trainer and server: state by its mean/std, actions by per-step mean/std,
arm actions relative to the current arm state (the dataset stores absolute arm targets)."""

from __future__ import annotations

import numpy as np

from gr00t.data.embodiment import ACTION_HORIZON, RELATIVE_ACTION_KEYS

EPS = 1e-6


def build_statistics(
    stats: dict, rel_stats: dict, state_ranges: dict, action_ranges: dict, embodiment: str
) -> dict:
    """The checkpoint's ``statistics.json``: everything the server needs to undo normalization."""
    action_mean = np.tile(np.asarray(stats["action"]["mean"], dtype=np.float32), (ACTION_HORIZON, 1))
    action_std = np.tile(np.asarray(stats["action"]["std"], dtype=np.float32), (ACTION_HORIZON, 1))
    for key in RELATIVE_ACTION_KEYS:
        a0, a1 = action_ranges[key]
        action_mean[:, a0:a1] = np.asarray(rel_stats[key]["mean"], dtype=np.float32)
        action_std[:, a0:a1] = np.asarray(rel_stats[key]["std"], dtype=np.float32)
    return {
        embodiment: {
            "state": {k: _group(stats["observation.state"], v) for k, v in state_ranges.items()},
            "action": {k: _group(stats["action"], v) for k, v in action_ranges.items()},
            "relative_action_keys": list(RELATIVE_ACTION_KEYS),
            "state_mean": stats["observation.state"]["mean"],
            "state_std": stats["observation.state"]["std"],
            "action_mean": action_mean.tolist(),
            "action_std": action_std.tolist(),
        }
    }


UPSTREAM_STATS = ("min", "max", "mean", "std", "q01", "q99")


def _group(column_stats: dict, span: tuple[int, int]) -> dict:
    """One joint group: its span in the stand-in's vectors, and upstream's per-group statistics.

    Mirrors the layout of upstream's ``statistics.json`` ({tag: {state|action: {group: {min, max, mean,
    std, q01, q99}}}}, each a list of the group's width): upstream's StateActionProcessor takes a group's
    width ("dim") from these lists, and so do clients that read the file (the groot-ops probe).
    """
    a, b = span
    entry: dict = {"start": a, "end": b}
    entry.update({s: list(column_stats[s][a:b]) for s in UPSTREAM_STATS if s in column_stats})
    return entry


class Normalizer:
    def __init__(self, statistics: dict) -> None:
        self.state_ranges = {k: (v["start"], v["end"]) for k, v in statistics["state"].items()}
        self.action_ranges = {k: (v["start"], v["end"]) for k, v in statistics["action"].items()}
        self.relative = tuple(statistics["relative_action_keys"])
        self.state_mean = np.asarray(statistics["state_mean"], dtype=np.float32)
        self.state_std = np.maximum(np.asarray(statistics["state_std"], dtype=np.float32), EPS)
        self.action_mean = np.asarray(statistics["action_mean"], dtype=np.float32)
        self.action_std = np.maximum(np.asarray(statistics["action_std"], dtype=np.float32), EPS)

    def state(self, state: np.ndarray) -> np.ndarray:
        return ((state - self.state_mean) / self.state_std).astype(np.float32)

    def action_targets(self, chunks: np.ndarray, state: np.ndarray) -> np.ndarray:
        """(B, 30, A) absolute actions -> normalized targets with arms relative to ``state`` (B, S)."""
        chunks = chunks.copy()
        for key in self.relative:
            a0, a1 = self.action_ranges[key]
            s0, s1 = self.state_ranges[key]
            chunks[:, :, a0:a1] -= state[:, None, s0:s1]
        return ((chunks - self.action_mean) / self.action_std).astype(np.float32)

    def absolute_actions(self, normalized: np.ndarray, state: np.ndarray) -> np.ndarray:
        actions = normalized * self.action_std + self.action_mean
        for key in self.relative:
            a0, a1 = self.action_ranges[key]
            s0, s1 = self.state_ranges[key]
            actions[:, :, a0:a1] += state[:, None, s0:s1]
        return actions.astype(np.float32)
