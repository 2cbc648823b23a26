"""Round trip through real CLI processes: synth (v2.1, v3.0) -> convert -> merge -> stats -> validate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[2]


def groot_ops(*args: str, expect: int = 0) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "python")}
    proc = subprocess.run(
        [sys.executable, "-m", "groot_ops", *args, "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == expect, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_round_trip_of_both_versions(tmp_path: Path) -> None:
    raws = {
        "v2.1": (tmp_path / "raw-towel", ["Fold the towel."]),
        "v3.0": (tmp_path / "raw-wipe", ["Wipe the table.", "Fold the towel."]),
    }
    converted = []
    for version, (raw, tasks) in raws.items():
        task_args = [a for t in tasks for a in ("--task", t)]
        synth = groot_ops("data", "synth", str(raw), "--version", version, "--episodes", "3", *task_args)
        assert synth["version"] == version
        out = tmp_path / f"groot-{version}"
        result = groot_ops("data", "convert", "--input", str(raw), "--output", str(out))
        assert result["changed"] and result["source_version"] == version
        assert not groot_ops("data", "convert", "--input", str(raw), "--output", str(out))["changed"]
        converted.append(str(out))

    merged = tmp_path / "merged"
    assert groot_ops("data", "merge", "--output", str(merged), *converted, "--check")["changed"]
    assert not merged.exists()
    result = groot_ops("data", "merge", "--output", str(merged), *converted)
    assert result["episodes"] == 6 and result["tasks"] == 2

    # Before stats the loader would fail: validate says so and exits 1.
    invalid = groot_ops("data", "validate", str(merged), expect=1)
    assert not invalid["ok"] and any("stats.json" in (p["path"] or "") for p in invalid["problems"])

    stats = groot_ops("data", "stats", str(merged))
    assert stats["changed"] and not stats["fresh_before"]
    assert not groot_ops("data", "stats", str(merged))["changed"]
    valid = groot_ops("data", "validate", str(merged))
    assert valid["ok"], valid["problems"]
    assert valid["frames"] == result["frames"]

    # The v3.0 input's episodes keep their own prompts: task_index in the rows points at the right text.
    tasks = {
        json.loads(line)["task_index"]: json.loads(line)["task"]
        for line in (merged / "meta/tasks.jsonl").read_text().splitlines()
    }
    for line in (merged / "meta/episodes.jsonl").read_text().splitlines():
        episode = json.loads(line)
        rows = pq.read_table(merged / f"data/chunk-000/episode_{episode['episode_index']:06d}.parquet")
        assert {tasks[i] for i in np.unique(rows.column("task_index").to_numpy())} == set(episode["tasks"])

    # A re-merge of the same inputs keeps the stats fresh; changing an input makes them stale.
    assert not groot_ops("data", "merge", "--output", str(merged), *converted)["changed"]
    assert groot_ops("data", "validate", str(merged))["ok"]
