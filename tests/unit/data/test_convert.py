"""convert: mapping, dtypes, meta files, videos, both source versions, idempotence and check mode."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from groot_ops.data import schema
from groot_ops.data.convert import convert_dataset
from groot_ops.data.fingerprint import dataset_fingerprint, read_record
from tests.data_factory import LENGTHS, LONG_LENGTHS, make_raw, tree_state


def _raw_matrix(table: pa.Table, column: str) -> np.ndarray:
    # Independent of the converter's reader: go through Python lists.
    rows = table.column(column).to_pylist()
    return np.array([r if isinstance(r, list) else [r] for r in rows], dtype=np.float32)


def test_state_and_action_follow_the_documented_mapping(groot_v21: Path, raw_v21: Path) -> None:
    for episode in range(len(LENGTHS)):
        raw = pq.read_table(raw_v21 / f"data/chunk-000/episode_{episode:06d}.parquet")
        out = pq.read_table(groot_v21 / f"data/chunk-000/episode_{episode:06d}.parquet")
        state = np.array(out.column("observation.state").to_pylist(), dtype=np.float32)
        action = np.array(out.column("action").to_pylist(), dtype=np.float32)
        body = _raw_matrix(raw, "observation.body")
        expected_state = np.concatenate(
            [
                body[:, 0:29],
                _raw_matrix(raw, "observation.left_gripper"),
                _raw_matrix(raw, "observation.right_gripper"),
            ],
            axis=1,
        )
        abody = _raw_matrix(raw, "action.body")
        expected_action = np.concatenate(
            [
                _raw_matrix(raw, "action.left_arm"),
                _raw_matrix(raw, "action.right_arm"),
                _raw_matrix(raw, "action.left_gripper"),
                _raw_matrix(raw, "action.right_gripper"),
                abody[:, 3:6],
                abody[:, 6:7],
                abody[:, 0:3],
            ],
            axis=1,
        )
        np.testing.assert_array_equal(state, expected_state)
        np.testing.assert_array_equal(action, expected_action)
        # Left gripper really is left: the Unitree tools put right first, GR00T wants left first.
        np.testing.assert_array_equal(state[:, 29], _raw_matrix(raw, "observation.left_gripper")[:, 0])


def test_output_types_are_what_the_loader_expects(groot_v21: Path) -> None:
    table = pq.read_table(groot_v21 / "data/chunk-000/episode_000001.parquet")
    types = dict(zip(table.schema.names, table.schema.types, strict=True))
    assert types["observation.state"] == pa.list_(pa.float32(), 31)
    assert types["action"] == pa.list_(pa.float32(), 23)
    assert types["timestamp"] == pa.float32()
    for name in ("frame_index", "episode_index", "index", "task_index"):
        assert types[name] == pa.int64(), name
    assert table.column("index").to_pylist()[0] == LENGTHS[0]
    assert set(table.column("episode_index").to_pylist()) == {1}


def test_meta_files(groot_v21: Path, raw_v21: Path) -> None:
    info = json.loads((groot_v21 / "meta/info.json").read_text())
    raw_info = json.loads((raw_v21 / "meta/info.json").read_text())
    assert info["total_frames"] == sum(LENGTHS) and info["total_episodes"] == len(LENGTHS)
    assert info["total_tasks"] == 2 and info["chunks_size"] == 1000 and info["fps"] == 30
    assert info["features"]["observation.state"]["names"][29:] == ["left_gripper", "right_gripper"]
    assert info["features"][schema.EGO_VIDEO_KEY] == raw_info["features"]["observation.images.cam_left_high"]
    assert "observation.images.cam_left_high" not in info["features"]
    assert json.loads((groot_v21 / "meta/modality.json").read_text()) == {
        "state": {
            "left_leg": {"start": 0, "end": 6},
            "right_leg": {"start": 6, "end": 12},
            "waist": {"start": 12, "end": 15},
            "left_arm": {"start": 15, "end": 22},
            "right_arm": {"start": 22, "end": 29},
            "left_hand": {"start": 29, "end": 30},
            "right_hand": {"start": 30, "end": 31},
        },
        "action": {
            "left_arm": {"start": 0, "end": 7},
            "right_arm": {"start": 7, "end": 14},
            "left_hand": {"start": 14, "end": 15},
            "right_hand": {"start": 15, "end": 16},
            "waist": {"start": 16, "end": 19},
            "base_height_command": {"start": 19, "end": 20},
            "navigate_command": {"start": 20, "end": 23},
        },
        "video": {"ego_view": {"original_key": "observation.images.ego_view"}},
        "annotation": {"human.task_description": {"original_key": "task_index"}},
    }
    episodes = [json.loads(line) for line in (groot_v21 / "meta/episodes.jsonl").read_text().splitlines()]
    assert [e["length"] for e in episodes] == list(LENGTHS)
    tasks = [json.loads(line) for line in (groot_v21 / "meta/tasks.jsonl").read_text().splitlines()]
    assert tasks == [
        {"task_index": 0, "task": "Fold the towel."},
        {"task_index": 1, "task": "Wipe the table."},
    ]
    assert not (groot_v21 / "meta/episodes_stats.jsonl").exists()
    assert (raw_v21 / "meta/episodes_stats.jsonl").exists()


def test_only_the_ego_video_is_hardlinked(groot_v21: Path, raw_v21: Path) -> None:
    videos = sorted((groot_v21 / "videos").rglob("*.mp4"))
    assert [v.parent.name for v in videos] == [schema.EGO_VIDEO_KEY] * len(LENGTHS)
    for number, video in enumerate(videos):
        source = raw_v21 / f"videos/chunk-000/observation.images.cam_left_high/episode_{number:06d}.mp4"
        assert os.path.samestat(video.stat(), source.stat())


def test_v30_source_gives_the_same_data_as_v21(tmp_path: Path, raw_v30: Path, groot_v21: Path) -> None:
    result = convert_dataset(raw_v30, tmp_path / "out")
    assert result["source_version"] == "v3.0" and result["changed"]
    # Same seed, same numbers: the two readers must agree exactly, down to the parquet bytes.
    assert dataset_fingerprint(tmp_path / "out") == dataset_fingerprint(groot_v21)
    from groot_ops.data.video import frame_count

    for episode, length in enumerate(LENGTHS):
        frames, method = frame_count(tmp_path / f"out/{schema.video_file(episode)}")
        assert (frames, method) == (length, "mp4-boxes")


def test_renamed_columns_and_camera_alias(tmp_path: Path) -> None:
    raw = make_raw(
        tmp_path / "raw", version="v3.0", renamed=True, lengths=(31, 33), cameras=("cam_left_high",)
    )
    info = json.loads((raw / "meta/info.json").read_text())
    assert "observation.state.body" in info["features"]
    assert "observation.images.head_stereo_left" in info["features"]
    result = convert_dataset(raw, tmp_path / "out", ego_camera="cam_left_high")
    assert result["frames"] == 64
    assert read_record(tmp_path / "out")["convert"]["options"]["source_camera"] == (
        "observation.images.head_stereo_left"
    )


def test_second_run_changes_nothing_and_check_mode_writes_nothing(tmp_path: Path, raw_v21: Path) -> None:
    out = tmp_path / "out"
    check = convert_dataset(raw_v21, out, check=True)
    assert check["changed"] and not out.exists()
    assert check["diff"]["before"] == {}
    first = convert_dataset(raw_v21, out)
    before = tree_state(out)
    second = convert_dataset(raw_v21, out)
    assert first["changed"] and not second["changed"]
    assert second["fingerprint"] == first["fingerprint"]
    assert tree_state(out) == before
    assert not convert_dataset(raw_v21, out, check=True)["changed"]
    # Another ego camera is another conversion.
    other = convert_dataset(raw_v21, out, ego_camera="cam_right_high", check=True)
    assert other["changed"] and tree_state(out) == before


def test_changed_output_is_reconverted(tmp_path: Path, raw_v21: Path) -> None:
    out = tmp_path / "out"
    convert_dataset(raw_v21, out)
    (out / "data/chunk-000/episode_000000.parquet").unlink()
    (out / "stale.txt").write_text("left over")
    assert convert_dataset(raw_v21, out)["changed"]
    assert (out / "data/chunk-000/episode_000000.parquet").exists()
    assert not (out / "stale.txt").exists()


def test_symlinked_videos_are_linked_to_their_target(tmp_path: Path, raw_v21: Path) -> None:
    # huggingface_hub snapshots can be symlinks into the blob cache.
    raw = tmp_path / "raw"
    import shutil

    shutil.copytree(raw_v21, raw, symlinks=True)
    video = raw / "videos/chunk-000/observation.images.cam_left_high/episode_000000.mp4"
    blob = tmp_path / "blob.mp4"
    video.rename(blob)
    video.symlink_to(blob)
    convert_dataset(raw, tmp_path / "out")
    out = tmp_path / f"out/{schema.video_file(0)}"
    assert not out.is_symlink() and os.path.samestat(out.stat(), blob.stat())


def test_v30_cut_videos_are_declared_h264(tmp_path: Path) -> None:
    raw = make_raw(
        tmp_path / "raw", version="v3.0", codec="av1", lengths=(31, 32), cameras=("cam_left_high",)
    )
    convert_dataset(raw, tmp_path / "out")
    info = json.loads((tmp_path / "out/meta/info.json").read_text())
    assert info["features"][schema.EGO_VIDEO_KEY]["info"]["video.codec"] == "h264"
    from groot_ops.data.video import probe_info

    assert probe_info(tmp_path / f"out/{schema.video_file(1)}")["video.codec"] == "h264"


def _first_and_last_frames(path: Path) -> tuple[np.ndarray, np.ndarray]:
    import av

    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24").astype(np.float32) for f in container.decode(video=0)]
    return frames[0], frames[-1]


def test_v30_cut_starts_and_ends_on_the_episode_boundaries(
    tmp_path: Path, raw_v30: Path, raw_v21: Path
) -> None:
    # Same seed: the v2.1 per-episode videos show exactly the frames each v3.0 cut must contain.
    out = tmp_path / "out"
    convert_dataset(raw_v30, out)
    for episode in range(len(LENGTHS)):
        cut = _first_and_last_frames(out / schema.video_file(episode))
        reference = _first_and_last_frames(
            raw_v21 / f"videos/chunk-000/observation.images.cam_left_high/episode_{episode:06d}.mp4"
        )
        for got, want in zip(cut, reference, strict=True):
            assert np.abs(got - want).mean() < 6.0, episode


def test_long_v30_episodes_are_cut_with_frame_n_at_n_over_fps(tmp_path: Path, raw_long_v30: Path) -> None:
    # Before the fix every cut packet had pts 0: the muxer failed past ~257 frames (errno 22).
    from groot_ops.data.synth import _frames
    from groot_ops.data.video import probe_info, timing_problems, track_timing

    out = tmp_path / "out"
    result = convert_dataset(raw_long_v30, out)
    assert result["videos"]["cut"] == len(LONG_LENGTHS) and result["frames"] == sum(LONG_LENGTHS)
    for episode, length in enumerate(LONG_LENGTHS):
        video = out / schema.video_file(episode)
        timing = track_timing(video)
        assert timing.frames == length and timing.seconds == pytest.approx(length / 30)
        assert sorted(timing.pts) == [n * timing.timescale // 30 for n in range(length)]
        assert timing_problems(video, frames=length, fps=30) == []
        # The right frames: the first and last of each episode, across file boundaries too.
        expected = _frames(length, 32, 32, seed=episode)
        first, last = _first_and_last_frames(video)
        assert np.abs(first - expected[0]).mean() < 12 and np.abs(last - expected[-1]).mean() < 12, episode
        assert probe_info(video)["video.codec"] == "h264"
    info = json.loads((out / "meta/info.json").read_text())["features"][schema.EGO_VIDEO_KEY]
    assert info["shape"] == [32, 32, 3]
    assert info["info"]["video.codec"] == "h264" and info["info"]["video.pix_fmt"] == "yuv420p"


def test_v30_outputs_cut_by_the_old_writer_are_redone(tmp_path: Path, raw_v30: Path) -> None:
    from groot_ops.atomic import write_json

    out = tmp_path / "out"
    convert_dataset(raw_v30, out)
    assert not convert_dataset(raw_v30, out)["changed"]
    record = read_record(out)
    assert record["convert"]["options"]["video_cut"] == 2
    del record["convert"]["options"]["video_cut"]  # what a conversion before the pts fix recorded
    write_json(out / "meta/groot_ops.json", record)
    assert convert_dataset(raw_v30, out)["changed"]
    assert read_record(out)["convert"]["options"]["video_cut"] == 2
