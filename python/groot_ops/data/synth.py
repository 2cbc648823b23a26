"""Synthetic raw Unitree G1 Dex1 datasets (LeRobot v2.1 and v3.0) for tests, benchmarks and the lab.

The data imitates every storage quirk of the real Hub datasets (``unitree-datasets.md``): scalar
and 1-element-list grippers side by side, ``list`` and ``fixed_size_list`` columns, flat, nested and
``{"motors": [...]}`` names, duplicated end-effector names, a stale ``episodes_stats.jsonl``, four
cameras with one real H.264 (or, as on the Hub, AV1) frame per row, and for v3.0 concatenated
parquet/video files with the episode index in ``meta/episodes/``. Output is deterministic for a given seed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from groot_ops.atomic import link_or_copy, staged_directory
from groot_ops.data.fingerprint import ensure_replaceable

CAMERAS: tuple[str, ...] = ("cam_left_high", "cam_right_high", "cam_left_wrist", "cam_right_wrist")
# The newer Unitree v3.0 naming; the reader maps it back (cam_left_high <-> head_stereo_left).
RENAMED_CAMERAS: dict[str, str] = {
    "cam_left_high": "head_stereo_left",
    "cam_right_high": "head_stereo_right",
    "cam_left_wrist": "wrist_left",
    "cam_right_wrist": "wrist_right",
}
_ARM = ["ShoulderPitch", "ShoulderRoll", "ShoulderYaw", "Elbow", "WristRoll", "WristPitch", "WristYaw"]
_LEG = ["HipPitch", "HipRoll", "HipYaw", "Knee", "AnklePitch", "AnkleRoll"]
BODY_NAMES = [
    *(f"kLeft{j}" for j in _LEG),
    *(f"kRight{j}" for j in _LEG),
    "kWaistYaw",
    "kWaistRoll",
    "kWaistPitch",
    *(f"kLeft{j}" for j in _ARM),
    *(f"kRight{j}" for j in _ARM),
]
# Real data repeats kLeftEEY: names are not unique and must never be used to index.
EE_NAMES = {"left": ["kLeftEEX", "kLeftEEY", "kLeftEEY", "kLeftEERoll", "kLeftEEPitch", "kLeftEEYaw"]}
EE_NAMES["right"] = ["kRightEEX", "kRightEEY", "kRightEEZ", "kRightEERoll", "kRightEEPitch", "kRightEEYaw"]
ACTION_BODY_NAMES = ["kVX", "kVY", "kAngZ", "kYaw", "kPitch", "kRoll", "kHeight"]

# column -> (width, storage, names layout). Storage: "list", "fixed", "scalar".
RAW_COLUMNS: dict[str, tuple[int, str, Any]] = {
    "observation.left_arm": (7, "list", [f"kLeft{j}" for j in _ARM]),
    "observation.right_arm": (7, "fixed", [f"kRight{j}" for j in _ARM]),
    "observation.left_gripper": (1, "scalar", {"motors": ["kLeftGripper"]}),
    "observation.right_gripper": (1, "list", [["kRightGripper"]]),
    "observation.left_ee": (6, "list", EE_NAMES["left"]),
    "observation.right_ee": (6, "list", EE_NAMES["right"]),
    "observation.body": (29, "fixed", [BODY_NAMES]),
    "action.left_arm": (7, "fixed", [f"kLeft{j}" for j in _ARM]),
    "action.right_arm": (7, "list", {"motors": [f"kRight{j}" for j in _ARM]}),
    "action.left_gripper": (1, "list", ["kLeftGripper"]),
    "action.right_gripper": (1, "scalar", ["kRightGripper"]),
    "action.left_ee": (6, "list", EE_NAMES["left"]),
    "action.right_ee": (6, "fixed", EE_NAMES["right"]),
    "action.body": (7, "list", ACTION_BODY_NAMES),
}


def renamed_column(column: str) -> str:
    """Newer v3.0 name of a column: ``observation.left_arm`` -> ``observation.state.left_arm``."""
    if column.startswith("observation."):
        return "observation.state." + column.split(".", 1)[1]
    return column


def _arrow_column(values: np.ndarray, storage: str) -> pa.Array:
    values = np.ascontiguousarray(values, dtype=np.float32)
    if storage == "scalar":
        return pa.array(values[:, 0])
    flat = pa.array(values.reshape(-1))
    if storage == "fixed":
        return pa.FixedSizeListArray.from_arrays(flat, values.shape[1])
    offsets = pa.array(np.arange(0, values.size + 1, values.shape[1], dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, flat)


def _episode_signals(rng: np.random.Generator, length: int) -> dict[str, np.ndarray]:
    """Smooth joint trajectories: arms move, legs hold a stance, grippers open and close."""
    t = np.arange(length, dtype=np.float64)[:, None] / 30.0

    def wave(width: int, amplitude: float, offset: float = 0.0) -> np.ndarray:
        freq = rng.uniform(0.1, 0.6, width)
        phase = rng.uniform(0, 2 * np.pi, width)
        noise = rng.normal(0, amplitude * 0.02, (length, width))
        return offset + amplitude * np.sin(2 * np.pi * freq * t + phase) + noise

    body = np.concatenate(
        [wave(12, 0.05, -0.1), wave(3, 0.05), wave(7, 0.6, 0.2), wave(7, 0.6, -0.2)], axis=1
    )
    grip = np.clip(wave(2, 2.4, 2.6), 0.0, 5.4)
    obs = {
        "observation.body": body,
        "observation.left_arm": body[:, 15:22],
        "observation.right_arm": body[:, 22:29],
        "observation.left_gripper": grip[:, :1],
        "observation.right_gripper": grip[:, 1:],
        "observation.left_ee": wave(6, 0.2, 0.3),
        "observation.right_ee": wave(6, 0.2, 0.3),
    }
    lead = np.roll(body, -3, axis=0)
    lead[-3:] = body[-3:]
    nav = wave(3, 0.1)
    waist = lead[:, 12:15]
    height = np.full((length, 1), 0.75) + rng.normal(0, 0.005, (length, 1))
    act = {
        "action.left_arm": lead[:, 15:22],
        "action.right_arm": lead[:, 22:29],
        "action.left_gripper": np.clip(grip[:, :1] + 0.1, 0, 5.4),
        "action.right_gripper": np.clip(grip[:, 1:] + 0.1, 0, 5.4),
        "action.left_ee": obs["observation.left_ee"] + 0.01,
        "action.right_ee": obs["observation.right_ee"] + 0.01,
        "action.body": np.concatenate([nav, waist[:, [0, 2, 1]], height], axis=1),
    }
    return {**obs, **act}


def _frames(length: int, width: int, height: int, seed: int) -> np.ndarray:
    """Cheap moving-gradient RGB frames, different per camera/episode."""
    x = np.linspace(0, 255, width, dtype=np.float32)[None, None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[None, :, None]
    t = np.arange(length, dtype=np.float32)[:, None, None] * 4.0
    base = (x + y * 0.5 + t + seed * 37) % 256
    out = np.empty((length, height, width, 3), dtype=np.uint8)
    out[..., 0] = base
    out[..., 1] = (base * 0.5 + 64) % 256
    out[..., 2] = (255 - base + seed * 11) % 256
    return out


def _write_video(path: Path, frames: np.ndarray, *, fps: int, codec: str) -> None:
    from groot_ops.data.video import VideoWriter

    writer = VideoWriter(path, fps=fps, width=frames.shape[2], height=frames.shape[1], codec=codec)
    try:
        for frame in frames:
            writer.write(frame)
    finally:
        writer.close()


def _feature(column: str, renamed: bool) -> tuple[str, dict[str, Any]]:
    width, _storage, names = RAW_COLUMNS[column]
    name = renamed_column(column) if renamed else column
    return name, {"dtype": "float32", "shape": [width], "names": names}


def _video_feature(width: int, height: int, fps: int, codec: str) -> dict[str, Any]:
    return {
        "dtype": "video",
        "shape": [height, width, 3],
        "names": ["height", "width", "channel"],
        "info": {
            "video.height": height,
            "video.width": width,
            "video.codec": "av1" if codec == "av1" else "h264",
            "video.pix_fmt": "yuv420p",
            "video.is_depth_map": False,
            "video.fps": fps,
            "video.channels": 3,
            "has_audio": False,
        },
    }


def synth_raw_dataset(
    out_dir: str | os.PathLike[str],
    *,
    version: str = "v2.1",
    episodes: int = 4,
    min_len: int = 40,
    max_len: int = 80,
    tasks: Sequence[str] = ("Fold the towel.",),
    seed: int = 0,
    fps: int = 30,
    width: int = 64,
    height: int = 48,
    cameras: Sequence[str] = CAMERAS,
    codec: str = "h264",
    renamed: bool = False,
    lengths: Sequence[int] | None = None,
    reuse_videos: bool = False,
    episodes_per_file: int | None = None,
    video_episodes_per_file: int | None = None,
    check: bool = False,
) -> dict[str, Any]:
    """Write a raw Unitree G1 Dex1 dataset to ``out_dir`` (atomically); returns a summary dict.

    H.264 is the default codec: every GR00T video backend decodes it, and SVT-AV1 (the only AV1
    encoder here) was seen to deadlock under heavy load; ``codec="av1"`` gives Hub-like AV1 files.

    ``lengths`` fixes the episode lengths (real episodes have 1,000-2,400 frames); ``reuse_videos``
    hardlinks one encoded video per distinct length (benchmarks: video content does not matter there,
    encoding time does). v3.0 only: ``episodes_per_file`` and ``video_episodes_per_file`` start a new
    concatenated data / video file after that many episodes (default: one file of each).
    """
    if version not in ("v2.1", "v3.0"):
        raise ValueError(f"version must be v2.1 or v3.0, not {version!r}")
    if not tasks:
        raise ValueError("at least one task")
    rng = np.random.default_rng(seed)
    if lengths is None:
        lengths = [int(n) for n in rng.integers(min_len, max_len + 1, episodes)]
    lengths = list(lengths)
    episodes = len(lengths)
    frames = int(sum(lengths))
    summary = {
        "output": str(out_dir),
        "version": version,
        "episodes": episodes,
        "frames": frames,
        "tasks": list(dict.fromkeys(tasks)),
        "cameras": list(cameras),
    }
    if check:
        return {"changed": True, **summary}
    target = Path(out_dir)
    ensure_replaceable(target, marker="meta/info.json")
    try:
        with staged_directory(target) as stage:
            writer = (_V21Writer if version == "v2.1" else _V30Writer)(
                stage,
                rng,
                lengths,
                list(tasks),
                fps,
                width,
                height,
                list(cameras),
                codec,
                renamed,
                reuse_videos,
            )
            if isinstance(writer, _V30Writer):
                writer.episodes_per_file = episodes_per_file
                writer.video_episodes_per_file = video_episodes_per_file
            writer.run()
            if target.is_dir() and _tree_digest(stage) == _tree_digest(target):
                raise _Unchanged
    except _Unchanged:
        return {"changed": False, **summary}
    return {"changed": True, **summary}


class _Unchanged(Exception):
    """Raised inside the staging context so that it is discarded and the existing output kept."""


def _tree_digest(root: Path) -> str:
    from groot_ops.data.fingerprint import digest_files

    return digest_files(root, [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()])


class _RawWriter:
    def __init__(
        self,
        root: Path,
        rng: np.random.Generator,
        lengths: list[int],
        tasks: list[str],
        fps: int,
        width: int,
        height: int,
        cameras: list[str],
        codec: str,
        renamed: bool,
        reuse_videos: bool,
    ) -> None:
        self.root, self.rng, self.lengths, self.fps = root, rng, lengths, fps
        self.task_texts = list(dict.fromkeys(tasks))
        self.episode_task = [self.task_texts.index(tasks[i % len(tasks)]) for i in range(len(lengths))]
        self.width, self.height, self.codec, self.renamed = width, height, codec, renamed
        self.cameras = [RENAMED_CAMERAS.get(c, c) if renamed else c for c in cameras]
        self.reuse_videos = reuse_videos
        self._video_cache: dict[tuple[str, int], Path] = {}

    def column_name(self, column: str) -> str:
        return renamed_column(column) if self.renamed else column

    def episode_table(self, episode: int, start_index: int) -> tuple[pa.Table, dict[str, np.ndarray]]:
        length = self.lengths[episode]
        signals = _episode_signals(self.rng, length)
        arrays: dict[str, pa.Array] = {}
        for column, (_w, storage, _n) in RAW_COLUMNS.items():
            arrays[self.column_name(column)] = _arrow_column(signals[column], storage)
        frame_index = np.arange(length, dtype=np.int64)
        arrays["timestamp"] = pa.array((frame_index / self.fps).astype(np.float32))
        arrays["frame_index"] = pa.array(frame_index)
        arrays["episode_index"] = pa.array(np.full(length, episode, dtype=np.int64))
        arrays["index"] = pa.array(np.arange(start_index, start_index + length, dtype=np.int64))
        arrays["task_index"] = pa.array(np.full(length, self.episode_task[episode], dtype=np.int64))
        return pa.table(arrays), signals

    def features(self) -> dict[str, Any]:
        feats: dict[str, Any] = dict(_feature(c, self.renamed) for c in RAW_COLUMNS)
        for cam in self.cameras:
            feats[f"observation.images.{cam}"] = _video_feature(self.width, self.height, self.fps, self.codec)
        feats["timestamp"] = {"dtype": "float32", "shape": [1], "names": None}
        for name in ("frame_index", "episode_index", "index", "task_index"):
            feats[name] = {"dtype": "int64", "shape": [1], "names": None}
        return feats

    def video(self, path: Path, camera_number: int, episode: int, length: int) -> None:
        key = (self.cameras[camera_number], length)
        if self.reuse_videos and key in self._video_cache:
            link_or_copy(self._video_cache[key], path)
            return
        _write_video(
            path,
            _frames(length, self.width, self.height, seed=camera_number * 1000 + episode),
            fps=self.fps,
            codec=self.codec,
        )
        self._video_cache[key] = path

    def write_json(self, rel: str, obj: Any) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(obj, indent=4) + "\n")

    def common_info(self) -> dict[str, Any]:
        return {
            "robot_type": "G1_ALL",
            "total_episodes": len(self.lengths),
            "total_frames": int(sum(self.lengths)),
            "total_tasks": len(self.task_texts),
            "chunks_size": 1000,
            "fps": self.fps,
            "splits": {"train": f"0:{len(self.lengths)}"},
            "features": self.features(),
        }


def _simple_stats(values: np.ndarray) -> dict[str, Any]:
    return {
        "min": values.min(axis=0).tolist(),
        "max": values.max(axis=0).tolist(),
        "mean": values.mean(axis=0).tolist(),
        "std": values.std(axis=0).tolist(),
        "count": [len(values)],
    }


class _V21Writer(_RawWriter):
    def run(self) -> None:
        start = 0
        episodes_lines, stats_lines = [], []
        for episode, length in enumerate(self.lengths):
            chunk = episode // 1000
            table, signals = self.episode_table(episode, start)
            path = self.root / f"data/chunk-{chunk:03d}/episode_{episode:06d}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, path)
            for number, cam in enumerate(self.cameras):
                self.video(
                    self.root
                    / f"videos/chunk-{chunk:03d}/observation.images.{cam}/episode_{episode:06d}.mp4",
                    number,
                    episode,
                    length,
                )
            task = self.task_texts[self.episode_task[episode]]
            episodes_lines.append({"episode_index": episode, "tasks": [task], "length": length})
            # Deliberately imprecise, like a stale upstream file: the converter must not copy it.
            stats_lines.append(
                {
                    "episode_index": episode,
                    "stats": {self.column_name(c): _simple_stats(signals[c]) for c in ("observation.body",)},
                }
            )
            start += length
        info = {
            "codebase_version": "v2.1",
            **self.common_info(),
            "total_videos": len(self.cameras) * len(self.lengths),
            "total_chunks": (len(self.lengths) + 999) // 1000,
            "data_path": "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet",
            "video_path": "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4",
        }
        self.write_json("meta/info.json", info)
        meta = self.root / "meta"
        (meta / "episodes.jsonl").write_text("".join(json.dumps(e) + "\n" for e in episodes_lines))
        (meta / "episodes_stats.jsonl").write_text("".join(json.dumps(e) + "\n" for e in stats_lines))
        (meta / "tasks.jsonl").write_text(
            "".join(json.dumps({"task_index": i, "task": t}) + "\n" for i, t in enumerate(self.task_texts))
        )


class _V30Writer(_RawWriter):
    """Concatenated files as LeRobot v3.0 writes them: episodes are appended to the current data file
    and, independently, to each camera's current video file, and a full file is closed and the next
    one started. ``episodes_per_file`` / ``video_episodes_per_file`` set when (so data and video
    boundaries can fall between different episodes, as on the Hub); video timestamps restart at 0 in
    every video file."""

    episodes_per_file: int | None = None
    video_episodes_per_file: int | None = None

    def run(self) -> None:
        count = len(self.lengths)
        per_data = self.episodes_per_file or count
        per_video = self.video_episodes_per_file or count
        rows: list[dict[str, Any]] = []
        tables: list[pa.Table] = []
        body_all = []
        start = 0
        video_keys = [f"observation.images.{cam}" for cam in self.cameras]
        for episode, length in enumerate(self.lengths):
            table, signals = self.episode_table(episode, start)
            tables.append(table)
            body_all.append(signals["observation.body"])
            data_file = episode // per_data
            row: dict[str, Any] = {
                "episode_index": episode,
                "tasks": [self.task_texts[self.episode_task[episode]]],
                "length": length,
                "data/chunk_index": data_file // 1000,
                "data/file_index": data_file % 1000,
                "dataset_from_index": start,
                "dataset_to_index": start + length,
            }
            video_file = episode // per_video
            first_in_file = video_file * per_video
            offset = sum(self.lengths[first_in_file:episode])
            for key in video_keys:
                row[f"videos/{key}/chunk_index"] = video_file // 1000
                row[f"videos/{key}/file_index"] = video_file % 1000
                row[f"videos/{key}/from_timestamp"] = offset / self.fps
                row[f"videos/{key}/to_timestamp"] = (offset + length) / self.fps
            row["meta/episodes/chunk_index"] = 0
            row["meta/episodes/file_index"] = 0
            rows.append(row)
            start += length
            if (episode + 1) % per_data == 0 or episode + 1 == count:
                path = self.root / f"data/chunk-{data_file // 1000:03d}/file-{data_file % 1000:03d}.parquet"
                path.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(pa.concat_tables(tables), path)
                tables = []
        episodes_file = self.root / "meta/episodes/chunk-000/file-000.parquet"
        episodes_file.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows), episodes_file)
        pq.write_table(
            pa.table(
                {
                    "task_index": pa.array(range(len(self.task_texts)), pa.int64()),
                    "task": pa.array(self.task_texts, pa.string()),
                }
            ),
            self.root / "meta/tasks.parquet",
        )
        for number, key in enumerate(video_keys):
            self._camera_files(number, key, per_video)
        info = {
            "codebase_version": "v3.0",
            **self.common_info(),
            "data_files_size_in_mb": 100,
            "video_files_size_in_mb": 500,
            "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
            "video_path": "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4",
        }
        self.write_json("meta/info.json", info)
        body = np.concatenate(body_all)
        self.write_json("meta/stats.json", {self.column_name("observation.body"): _simple_stats(body)})

    def _camera_files(self, number: int, key: str, per_video: int) -> None:
        """One camera's concatenated videos, frames generated one episode at a time (bounded memory)."""
        from groot_ops.data.video import VideoWriter

        for first in range(0, len(self.lengths), per_video):
            video_file = first // per_video
            path = self.root / f"videos/{key}/chunk-{video_file // 1000:03d}/file-{video_file % 1000:03d}.mp4"
            writer = VideoWriter(path, fps=self.fps, width=self.width, height=self.height, codec=self.codec)
            try:
                for episode in range(first, min(first + per_video, len(self.lengths))):
                    seed = number * 1000 + episode
                    for frame in _frames(self.lengths[episode], self.width, self.height, seed=seed):
                        writer.write(frame)
            finally:
                writer.close()


# A GR00T-layout dataset of another embodiment, shaped like nvidia/PhysicalAI-Robotics-GR00T-Teleop-G1
# (g1-pick-apple): 7-joint arms and 7-joint Dex3 tri-finger hands in one 28-wide state and action, one
# RealSense camera. NEW_EMBODIMENT recipes train such data with their own modality config.
TELEOP_GROUPS: tuple[tuple[str, int, int], ...] = (
    ("left_arm", 0, 7),
    ("right_arm", 7, 14),
    ("left_hand", 14, 21),
    ("right_hand", 21, 28),
)
TELEOP_VIDEO_KEY = "rs_view"


def synth_groot_dataset(
    out_dir: str | os.PathLike[str],
    *,
    lengths: Sequence[int] = (1200, 1350, 1500),
    groups: Sequence[tuple[str, int, int]] = TELEOP_GROUPS,
    video_key: str = TELEOP_VIDEO_KEY,
    tasks: Sequence[str] = ("Pick up the apple and place it on the plate.",),
    seed: int = 0,
    fps: int = 30,
    width: int = 32,
    height: int = 32,
) -> dict[str, Any]:
    """Write a GR00T-layout (LeRobot v2.1, one file per episode) dataset whose state and action are
    ``groups`` (name, start, end) of one ``observation.state`` and one ``action`` column, with one real
    H.264 video per episode (``observation.images.<video_key>``, one frame per row) and its own
    ``meta/modality.json``; no stats. Deterministic for a seed; written through a staging directory."""
    from groot_ops.data import schema

    rng = np.random.default_rng(seed)
    dim = max(end for _name, _start, end in groups)
    video_column = f"observation.images.{video_key}"
    lengths = [int(n) for n in lengths]
    target = Path(out_dir)
    ensure_replaceable(target, marker="meta/info.json")
    with staged_directory(target) as stage:
        offset = 0
        for index, length in enumerate(lengths):
            t = np.arange(length, dtype=np.float64)[:, None] / fps
            freq, phase = rng.uniform(0.1, 0.6, dim), rng.uniform(0, 2 * np.pi, dim)
            state = 0.6 * np.sin(2 * np.pi * freq * t + phase) + rng.normal(0, 0.01, (length, dim))
            action = np.roll(state, -3, axis=0) + rng.normal(0, 0.005, (length, dim))
            action[-3:] = state[-3:]
            task = index % len(tasks)
            table = pa.table(
                {
                    schema.STATE_KEY: _arrow_column(state, "fixed"),
                    schema.ACTION_KEY: _arrow_column(action, "list"),
                    "timestamp": pa.array(np.arange(length, dtype=np.float32) / fps),
                    "frame_index": pa.array(np.arange(length, dtype=np.int64)),
                    "episode_index": pa.array(np.full(length, index, dtype=np.int64)),
                    "index": pa.array(np.arange(offset, offset + length, dtype=np.int64)),
                    "task_index": pa.array(np.full(length, task, dtype=np.int64)),
                }
            )
            path = stage / schema.data_file(index)
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, path)
            video = stage / schema.video_file(index, video_key=video_column)
            video.parent.mkdir(parents=True, exist_ok=True)
            _write_video(video, _frames(length, width, height, seed + index), fps=fps, codec="h264")
            offset += length
        names = [f"{name}_{j}" for name, start, end in groups for j in range(end - start)]
        info = schema.info_json(
            fps=fps,
            robot_type="Unitree_G1_Dex3",
            episodes=len(lengths),
            frames=offset,
            tasks=len(tasks),
            ego_feature=_video_feature(width, height, fps, "h264"),
        )
        features = info["features"]
        features[schema.STATE_KEY] = {"dtype": "float32", "shape": [dim], "names": names}
        features[schema.ACTION_KEY] = {"dtype": "float32", "shape": [dim], "names": names}
        features[video_column] = features.pop(schema.EGO_VIDEO_KEY)
        section = {name: {"start": start, "end": end} for name, start, end in groups}
        modality = {
            "state": section,
            "action": section,
            "video": {video_key: {"original_key": video_column}},
            "annotation": {"human.task_description": {"original_key": "task_index"}},
        }
        meta = stage / "meta"
        meta.mkdir(parents=True, exist_ok=True)
        (meta / "info.json").write_text(json.dumps(info, indent=4))
        (meta / "modality.json").write_text(json.dumps(modality, indent=4))
        episodes = [
            {"episode_index": i, "tasks": [tasks[i % len(tasks)]], "length": n} for i, n in enumerate(lengths)
        ]
        (meta / "episodes.jsonl").write_text("".join(json.dumps(e) + "\n" for e in episodes))
        (meta / "tasks.jsonl").write_text(
            "".join(json.dumps({"task_index": i, "task": task}) + "\n" for i, task in enumerate(tasks))
        )
    return {"changed": True, "output": str(target), "episodes": len(lengths), "frames": offset}
