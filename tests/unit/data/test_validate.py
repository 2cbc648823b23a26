"""validate: every problem at once, each with file/column/episode; clean datasets pass."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from groot_ops.cli.main import main
from groot_ops.data import schema
from groot_ops.data.stats import compute_stats
from groot_ops.data.validate import validate_dataset
from tests.data_factory import copy_tree, rewrite_column


@pytest.fixture
def dataset(tmp_path: Path, groot_v21: Path) -> Path:
    root = copy_tree(groot_v21, tmp_path / "ds")
    compute_stats(root)
    return root


def test_clean_dataset_passes(dataset: Path) -> None:
    result = validate_dataset(dataset)
    assert result["ok"], result["problems"]
    assert result["episodes"] == 4 and result["frames"] == 132


def test_every_problem_is_reported(dataset: Path) -> None:
    (dataset / schema.video_file(2)).unlink()
    shutil.copy(dataset / schema.video_file(0), dataset / schema.video_file(3))
    rewrite_column(dataset / schema.data_file(1), "task_index", pa.array([9] * 20, pa.int64()))
    info = json.loads((dataset / "meta/info.json").read_text())
    del info["chunks_size"]
    (dataset / "meta/info.json").write_text(json.dumps(info))
    modality = json.loads((dataset / "meta/modality.json").read_text())
    modality["state"]["left_hand"]["end"] = 31
    (dataset / "meta/modality.json").write_text(json.dumps(modality))
    result = validate_dataset(dataset)
    assert not result["ok"]
    found = {(p["column"], p["episode"]) for p in result["problems"]}
    assert (schema.EGO_VIDEO_KEY, 2) in found
    assert (schema.EGO_VIDEO_KEY, 3) in found
    assert ("task_index", 1) in found
    assert ("state", None) in found
    messages = " | ".join(p["message"] for p in result["problems"])
    assert "chunks_size" in messages and "45 frames" in messages and "stale stats" in messages


def test_width_and_row_count_problems(dataset: Path) -> None:
    values = pa.FixedSizeListArray.from_arrays(pa.array([0.0] * 20 * 22, pa.float32()), 22)
    rewrite_column(dataset / schema.data_file(1), "action", values)
    lines = (dataset / "meta/episodes.jsonl").read_text().splitlines()
    entry = json.loads(lines[0])
    entry["length"] = 44
    lines[0] = json.dumps(entry)
    (dataset / "meta/episodes.jsonl").write_text("\n".join(lines) + "\n")
    problems = validate_dataset(dataset)["problems"]
    assert any(p["column"] == "action" and p["episode"] == 1 for p in problems)
    assert any(p["episode"] == 0 and "44" in p["message"] for p in problems)


def test_missing_and_incomplete_stats(dataset: Path) -> None:
    stats = json.loads((dataset / "meta/stats.json").read_text())
    del stats["timestamp"]
    del stats["action"]["q99"]
    (dataset / "meta/stats.json").write_text(json.dumps(stats))
    (dataset / "meta/relative_stats.json").unlink()
    problems = validate_dataset(dataset)["problems"]
    columns = {(p["column"], p["message"].split(" ")[0]) for p in problems}
    assert ("timestamp", "stats") in columns
    assert ("action", "stats") in columns
    assert any(p["path"].endswith("relative_stats.json") and p["message"] == "missing file" for p in problems)


def test_missing_info_json(tmp_path: Path) -> None:
    (tmp_path / "meta").mkdir()
    result = validate_dataset(tmp_path)
    assert not result["ok"]
    assert result["problems"][0]["path"] == str(tmp_path / "meta/info.json")


def test_cli_exit_code(dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "validate", str(dataset)]) == 0
    (dataset / schema.video_file(0)).unlink()
    assert main(["data", "validate", str(dataset), "--json"]) == 1
    out = capsys.readouterr().out.splitlines()[-1]
    assert json.loads(out)["problems"][0]["episode"] == 0


def test_index_columns_must_be_integers(dataset: Path) -> None:
    rewrite_column(dataset / schema.data_file(2), "task_index", pa.array([0.0] * 30, pa.float64()))
    problems = validate_dataset(dataset)["problems"]
    assert any(
        p["column"] == "task_index" and p["episode"] == 2 and "int64" in p["message"] for p in problems
    )


def test_mistimed_video_is_reported_for_its_episode(dataset: Path, tmp_path: Path) -> None:
    # 37 frames, as episode 3 has rows, but stamped at 15 fps: right count, wrong duration and grid.
    from groot_ops.data.video import VideoWriter

    video = dataset / schema.video_file(3)
    video.unlink()
    writer = VideoWriter(video, fps=15, width=64, height=48, codec="h264")
    for _ in range(37):
        writer.write(np.zeros((48, 64, 3), dtype=np.uint8))
    writer.close()
    problems = validate_dataset(dataset)["problems"]
    timing = [p for p in problems if "lasts" in p["message"]]
    assert timing and timing[0]["episode"] == 3 and timing[0]["path"] == str(video)
    assert timing[0]["column"] == schema.EGO_VIDEO_KEY
