"""``groot-ops bench data`` runs end to end on a small dataset (its numbers are for the README, not here)."""

from __future__ import annotations

from pathlib import Path

from groot_ops.data.bench import run_bench


def test_bench_measures_every_stage(tmp_path: Path) -> None:
    result = run_bench(episodes=2, merge_inputs=2, repeat=1, workdir=str(tmp_path / "bench"))
    assert result["frames"] > 3000 and result["merge_frames"] == 2 * result["frames"]
    assert result["merge_video_bytes_added"] == 0
    for stats in (result["stats"], result["merged_stats"]):
        assert stats["peak_rss_mb"] >= stats["rss_after_imports_mb"] > 0 and stats["seconds"] > 0
    assert len(result["load_average_before"]) == len(result["load_average_after"]) == 3
    assert not (tmp_path / "bench").exists()
