"""Bad input: one clear error naming file/column/episode, non-zero CLI exit, previous output untouched."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from groot_ops.cli.main import main
from groot_ops.data.convert import convert_dataset
from groot_ops.errors import InputError
from tests.data_factory import copy_tree, drop_column, rewrite_column, tree_state, truncate


@pytest.fixture
def raw(tmp_path: Path, raw_v21: Path) -> Path:
    return copy_tree(raw_v21, tmp_path / "raw")


@pytest.fixture
def previous(tmp_path: Path, raw_v21: Path) -> tuple[Path, dict[str, tuple[int, int]]]:
    """A good earlier output that every failed conversion must leave exactly as it was."""
    out = tmp_path / "out"
    convert_dataset(raw_v21, out)
    return out, tree_state(out)


def _fails(raw: Path, previous: tuple[Path, dict[str, tuple[int, int]]], **kwargs: str) -> InputError:
    out, state = previous
    with pytest.raises(InputError) as caught:
        convert_dataset(raw, out, **kwargs)
    assert tree_state(out) == state
    assert not [p for p in out.parent.iterdir() if ".staging-" in p.name]
    return caught.value


EP1 = "data/chunk-000/episode_000001.parquet"


def test_missing_info_json(raw: Path, previous: tuple[Path, dict[str, tuple[int, int]]]) -> None:
    (raw / "meta/info.json").unlink()
    error = _fails(raw, previous)
    assert error.path == str(raw / "meta/info.json")


def test_missing_column_in_parquet(raw: Path, previous: tuple[Path, dict[str, tuple[int, int]]]) -> None:
    drop_column(raw / EP1, "action.body")
    error = _fails(raw, previous)
    assert (error.path, error.column, error.episode) == (str(raw / EP1), "action.body", 1)


def test_feature_missing_from_info(raw: Path, previous: tuple[Path, dict[str, tuple[int, int]]]) -> None:
    info = json.loads((raw / "meta/info.json").read_text())
    del info["features"]["observation.body"]
    (raw / "meta/info.json").write_text(json.dumps(info))
    error = _fails(raw, previous)
    assert error.column == "observation.body" and "missing" in str(error)


def test_mis_sized_list_column(raw: Path, previous: tuple[Path, dict[str, tuple[int, int]]]) -> None:
    rows = 20
    values = pa.array([[0.0] * 6] * rows, pa.list_(pa.float32()))
    rewrite_column(raw / EP1, "action.left_arm", values)
    error = _fails(raw, previous)
    assert (error.column, error.episode) == ("action.left_arm", 1)
    assert "6 values, expected 7" in str(error)


def test_mis_sized_fixed_size_list(raw: Path, previous: tuple[Path, dict[str, tuple[int, int]]]) -> None:
    values = pa.FixedSizeListArray.from_arrays(pa.array([0.0] * 20 * 28, pa.float32()), 28)
    rewrite_column(raw / EP1, "observation.body", values)
    error = _fails(raw, previous)
    assert (error.column, error.episode) == ("observation.body", 1)
    assert "28" in str(error)


def test_missing_ego_camera_lists_the_available_ones(
    raw: Path, previous: tuple[Path, dict[str, tuple[int, int]]]
) -> None:
    error = _fails(raw, previous, ego_camera="cam_head")
    assert "cam_left_high, cam_left_wrist, cam_right_high, cam_right_wrist" in str(error)


def test_missing_ego_video_file(raw: Path, previous: tuple[Path, dict[str, tuple[int, int]]]) -> None:
    (raw / "videos/chunk-000/observation.images.cam_left_high/episode_000002.mp4").unlink()
    error = _fails(raw, previous)
    assert (error.column, error.episode) == ("observation.images.cam_left_high", 2)


def test_truncated_parquet(raw: Path, previous: tuple[Path, dict[str, tuple[int, int]]]) -> None:
    truncate(raw / EP1)
    error = _fails(raw, previous)
    assert (error.path, error.episode) == (str(raw / EP1), 1)
    assert "truncated" in str(error)


def test_video_with_wrong_frame_count(raw: Path, previous: tuple[Path, dict[str, tuple[int, int]]]) -> None:
    videos = raw / "videos/chunk-000/observation.images.cam_left_high"
    shutil.copy(videos / "episode_000000.mp4", videos / "episode_000001.mp4")  # 45 frames for 20 rows
    error = _fails(raw, previous)
    assert error.episode == 1 and "45 frames" in str(error) and "20 rows" in str(error)


def test_rows_disagree_with_episode_length(
    raw: Path, previous: tuple[Path, dict[str, tuple[int, int]]]
) -> None:
    lines = (raw / "meta/episodes.jsonl").read_text().splitlines()
    entry = json.loads(lines[3])
    entry["length"] = 99
    lines[3] = json.dumps(entry)
    (raw / "meta/episodes.jsonl").write_text("\n".join(lines) + "\n")
    error = _fails(raw, previous)
    assert error.episode == 3 and "length 99" in str(error)


def test_mixed_layouts(raw: Path, previous: tuple[Path, dict[str, tuple[int, int]]]) -> None:
    shutil.copy(raw / EP1, raw / "data/chunk-000/file-000.parquet")
    error = _fails(raw, previous)
    assert "mixed" in str(error)


def test_unknown_task_index(raw: Path, previous: tuple[Path, dict[str, tuple[int, int]]]) -> None:
    rewrite_column(raw / EP1, "task_index", pa.array([7] * 20, pa.int64()))
    error = _fails(raw, previous)
    assert (error.column, error.episode) == ("task_index", 1)


def test_cli_exits_non_zero_with_the_message(
    raw: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drop_column(raw / EP1, "action.body")
    code = main(["data", "convert", "--input", str(raw), "--output", str(tmp_path / "cli"), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["ok"] is False
    assert "column action.body" in out["error"] and "episode 1" in out["error"]
    assert not (tmp_path / "cli").exists()


def test_v30_video_shorter_than_the_rows(tmp_path: Path, raw_v30: Path) -> None:
    import numpy as np

    from groot_ops.data.video import VideoWriter

    raw = copy_tree(raw_v30, tmp_path / "raw30")
    video = raw / "videos/observation.images.cam_left_high/chunk-000/file-000.mp4"
    writer = VideoWriter(video, fps=30, width=64, height=48, codec="h264")
    for _ in range(50):  # episodes 0 and 1 span frames 0..64: episode 1 gets 5 of its 20 frames
        writer.write(np.zeros((48, 64, 3), dtype=np.uint8))
    writer.close()
    with pytest.raises(InputError) as caught:
        convert_dataset(raw, tmp_path / "out")
    assert caught.value.path == str(video) and caught.value.episode in (1, 2, 3)
    assert "rows" in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_v30_without_tasks_parquet(tmp_path: Path, raw_v30: Path) -> None:
    raw = copy_tree(raw_v30, tmp_path / "raw30")
    (raw / "meta/tasks.parquet").unlink()
    with pytest.raises(InputError) as caught:
        convert_dataset(raw, tmp_path / "out")
    assert caught.value.path == str(raw / "meta/tasks.parquet")


def test_foreign_output_directory_is_never_replaced(tmp_path: Path, raw_v21: Path) -> None:
    from groot_ops.data.merge import merge_datasets
    from groot_ops.data.synth import synth_raw_dataset

    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text("precious")
    with pytest.raises(InputError, match="not replacing"):
        convert_dataset(raw_v21, home)
    good = tmp_path / "good"
    convert_dataset(raw_v21, good)
    with pytest.raises(InputError, match="not replacing"):
        merge_datasets([str(good)], home)
    with pytest.raises(InputError, match="not replacing"):
        synth_raw_dataset(home, episodes=1)
    assert (home / "notes.txt").read_text() == "precious" and len(list(home.iterdir())) == 1


def test_no_tasks(raw: Path, previous: tuple[Path, dict[str, tuple[int, int]]]) -> None:
    (raw / "meta/tasks.jsonl").write_text("")
    assert "no tasks" in str(_fails(raw, previous))


def test_damaged_v30_video_names_file_and_episode_in_one_line(
    tmp_path: Path, raw_v30: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = copy_tree(raw_v30, tmp_path / "raw30")
    video = raw / "videos/observation.images.cam_left_high/chunk-000/file-000.mp4"
    truncate(video, 0.6)
    out = tmp_path / "out"
    code = main(["data", "convert", "--input", str(raw), "--output", str(out)])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("groot-ops: error: ")
    assert f"file {video}" in lines[0] and "episode " in lines[0]
    assert not out.exists()


@pytest.mark.parametrize("command", ["convert", "stats", "validate"])
def test_unexpected_failures_are_one_json_error_document(
    tmp_path: Path,
    raw_v21: Path,
    command: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A bug or an environment problem (not an InputError) must not leave --json output empty.
    from groot_ops.data import stats, validate

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    out = tmp_path / "out"
    if command == "convert":
        monkeypatch.setattr("groot_ops.data.convert._write_meta", broken)
        argv = ["data", "convert", "--input", str(raw_v21), "--output", str(out), "--json"]
    else:
        convert_dataset(raw_v21, out)
        monkeypatch.setattr(stats, "_dataset_stats", broken)
        monkeypatch.setattr(validate._Validator, "check_episodes", broken)
        argv = ["data", command, str(out), "--json"]
    code = main(argv)
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert code == 1 and document["ok"] is False
    assert document["error"] == f"data {command} failed on {raw_v21 if command == 'convert' else out}: " + (
        "RuntimeError: disk on fire"
    )
    assert "Traceback" not in captured.err
