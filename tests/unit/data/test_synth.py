"""synth: the quirks of the real Hub data, one video frame per row, determinism and idempotence."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from groot_ops.data.synth import synth_raw_dataset
from groot_ops.data.video import frame_count
from tests.data_factory import LENGTHS, tree_state


def test_v21_has_the_storage_quirks_of_the_hub_data(raw_v21: Path) -> None:
    info = json.loads((raw_v21 / "meta/info.json").read_text())
    assert info["codebase_version"] == "v2.1" and info["robot_type"] == "G1_ALL"
    assert info["total_videos"] == 4 * len(LENGTHS)
    features = info["features"]
    assert features["action.body"]["shape"] == [7]
    assert isinstance(features["observation.body"]["names"][0], list)  # nested names
    assert "motors" in features["observation.left_gripper"]["names"]  # {"motors": [...]}
    ee = features["observation.left_ee"]["names"]
    assert len(ee) != len(set(ee))  # duplicated end-effector names
    table = pq.read_table(raw_v21 / "data/chunk-000/episode_000000.parquet")
    types = dict(zip(table.schema.names, table.schema.types, strict=True))
    assert types["observation.left_gripper"] == pa.float32()  # scalar gripper
    assert types["observation.right_gripper"] == pa.list_(pa.float32())  # 1-element list gripper
    assert types["observation.body"] == pa.list_(pa.float32(), 29)  # fixed_size_list
    assert types["observation.left_arm"] == pa.list_(pa.float32())  # list
    assert (raw_v21 / "meta/episodes_stats.jsonl").is_file()
    for number, length in enumerate(LENGTHS):
        for camera in ("cam_left_high", "cam_right_wrist"):
            video = raw_v21 / f"videos/chunk-000/observation.images.{camera}/episode_{number:06d}.mp4"
            assert frame_count(video)[0] == length


def test_v30_layout(raw_v30: Path) -> None:
    info = json.loads((raw_v30 / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0" and "total_chunks" not in info
    assert info["data_path"] == "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
    episodes = pq.read_table(raw_v30 / "meta/episodes/chunk-000/file-000.parquet")
    for column in (
        "episode_index",
        "tasks",
        "length",
        "data/chunk_index",
        "data/file_index",
        "dataset_from_index",
        "dataset_to_index",
        "videos/observation.images.cam_left_high/from_timestamp",
        "videos/observation.images.cam_left_high/to_timestamp",
    ):
        assert column in episodes.column_names, column
    assert pq.read_table(raw_v30 / "data/chunk-000/file-000.parquet").num_rows == sum(LENGTHS)
    video = raw_v30 / "videos/observation.images.cam_left_high/chunk-000/file-000.mp4"
    assert frame_count(video)[0] == sum(LENGTHS)
    assert pq.read_table(raw_v30 / "meta/tasks.parquet").column("task").to_pylist() == [
        "Fold the towel.",
        "Wipe the table.",
    ]


def test_deterministic_and_idempotent(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    options = {"episodes": 2, "min_len": 31, "max_len": 35, "cameras": ("cam_left_high",)}
    assert synth_raw_dataset(out, **options)["changed"]  # type: ignore[arg-type]
    state = tree_state(out)
    assert not synth_raw_dataset(out, **options)["changed"]  # type: ignore[arg-type]
    assert tree_state(out) == state
    assert synth_raw_dataset(out, seed=3, **options)["changed"]  # type: ignore[arg-type]
    assert synth_raw_dataset(tmp_path / "nothing", check=True, **options)["changed"]  # type: ignore[arg-type]
    assert not (tmp_path / "nothing").exists()
