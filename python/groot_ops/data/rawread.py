"""Readers of raw Unitree G1 datasets in LeRobot v2.1 (per-episode files) and v3.0 (concatenated files).

Both readers produce the same thing: a list of :class:`RawEpisode` (where the rows and the ego
video of each episode are) plus the resolved column names, so the converter never cares which
version it reads. Column names and widths come from ``meta/info.json`` at run time; nothing about
frame counts or layout is hard-coded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from groot_ops.errors import InputError

# Role -> (width, accepted column names). The second names are the newer Unitree v3.0 spelling.
RAW_ROLES: dict[str, tuple[int, tuple[str, ...]]] = {
    "obs_body": (29, ("observation.body", "observation.state.body")),
    "obs_left_gripper": (1, ("observation.left_gripper", "observation.state.left_gripper")),
    "obs_right_gripper": (1, ("observation.right_gripper", "observation.state.right_gripper")),
    "act_left_arm": (7, ("action.left_arm",)),
    "act_right_arm": (7, ("action.right_arm",)),
    "act_left_gripper": (1, ("action.left_gripper",)),
    "act_right_gripper": (1, ("action.right_gripper",)),
    "act_body": (7, ("action.body",)),
}
CAMERA_ALIASES: dict[str, str] = {
    "cam_left_high": "head_stereo_left",
    "cam_right_high": "head_stereo_right",
    "cam_left_wrist": "wrist_left",
    "cam_right_wrist": "wrist_right",
}
CAMERA_ALIASES.update({v: k for k, v in list(CAMERA_ALIASES.items())})
REQUIRED_INFO_KEYS = ("codebase_version", "fps", "features", "data_path")


@dataclass
class RawEpisode:
    index: int
    length: int
    tasks: list[str]
    data_file: Path
    # v3.0: rows of this episode inside a concatenated data file are selected by episode_index.
    shared_file: bool = False
    video_file: Path | None = None
    # v3.0: [first, end) frame numbers inside a concatenated video.
    video_frames: tuple[int, int] | None = None


@dataclass
class RawDataset:
    root: Path
    version: str
    info: dict[str, Any]
    fps: float
    robot_type: str
    columns: dict[str, str]
    ego_key: str
    tasks: dict[int, str]
    episodes: list[RawEpisode] = field(default_factory=list)

    @property
    def frames(self) -> int:
        return sum(e.length for e in self.episodes)

    def meta_files(self) -> list[str]:
        """Relative paths of the meta files a conversion depends on (for the source fingerprint)."""
        if self.version == "v2.1":
            return ["meta/info.json", "meta/episodes.jsonl", "meta/tasks.jsonl"]
        meta = [p.relative_to(self.root).as_posix() for p in (self.root / "meta/episodes").rglob("*.parquet")]
        return ["meta/info.json", "meta/tasks.parquet", *meta]

    def data_files(self) -> list[str]:
        return sorted({e.data_file.relative_to(self.root).as_posix() for e in self.episodes})

    def video_files(self) -> list[str]:
        return sorted({e.video_file.relative_to(self.root).as_posix() for e in self.episodes if e.video_file})


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError("missing file: not a LeRobot dataset", path=str(path)) from None
    except ValueError as exc:
        raise InputError(f"invalid JSON: {exc}", path=str(path)) from exc


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise InputError("missing file", path=str(path)) from None
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except ValueError as exc:
            raise InputError(f"invalid JSON on line {number}: {exc}", path=str(path)) from exc
    return rows


def read_parquet(path: Path, *, columns: list[str] | None = None, episode: int | None = None) -> pa.Table:
    """``pq.read_table`` with one clear error for missing, truncated or unreadable files."""
    if not path.is_file():
        raise InputError("missing parquet file", path=str(path), episode=episode)
    try:
        return pq.read_table(path, columns=columns)
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise InputError(
            f"unreadable parquet (truncated or corrupt?): {exc}", path=str(path), episode=episode
        ) from exc


def feature_width(feature: dict[str, Any]) -> int:
    shape = feature.get("shape") or [1]
    return int(np.prod(shape))


def _resolve_columns(info: dict[str, Any], info_path: Path) -> dict[str, str]:
    features = info["features"]
    columns: dict[str, str] = {}
    for role, (width, names) in RAW_ROLES.items():
        name = next((n for n in names if n in features), None)
        if name is None:
            raise InputError(
                f"required feature missing from meta/info.json (expected one of {', '.join(names)})",
                path=str(info_path),
                column=names[0],
            )
        declared = feature_width(features[name])
        if declared != width:
            raise InputError(
                f"feature has width {declared}, the G1 Dex1 layout needs {width}",
                path=str(info_path),
                column=name,
            )
        columns[role] = name
    return columns


def resolve_camera(info: dict[str, Any], ego_camera: str, info_path: Path) -> str:
    features = info["features"]
    cameras = sorted(k for k, v in features.items() if isinstance(v, dict) and v.get("dtype") == "video")
    short = ego_camera.removeprefix("observation.images.")
    for candidate in (short, CAMERA_ALIASES.get(short)):
        if candidate and f"observation.images.{candidate}" in features:
            return f"observation.images.{candidate}"
    available = ", ".join(c.removeprefix("observation.images.") for c in cameras) or "none"
    raise InputError(
        f"ego camera {ego_camera!r} not in the dataset; available cameras: {available}",
        path=str(info_path),
        column=f"observation.images.{short}",
    )


def open_raw(root: str | Path, *, ego_camera: str = "cam_left_high") -> RawDataset:
    """Read the meta files of a raw dataset, resolve columns and camera, list its episodes."""
    root = Path(root)
    info_path = root / "meta/info.json"
    info = _read_json(info_path)
    if not isinstance(info, dict):
        raise InputError("meta/info.json is not an object", path=str(info_path))
    missing = [k for k in REQUIRED_INFO_KEYS if k not in info]
    if missing:
        raise InputError(f"meta/info.json lacks required keys: {', '.join(missing)}", path=str(info_path))
    version = str(info["codebase_version"])
    columns = _resolve_columns(info, info_path)
    ego_key = resolve_camera(info, ego_camera, info_path)
    dataset = RawDataset(
        root=root,
        version=version,
        info=info,
        fps=info["fps"],
        robot_type=str(info.get("robot_type", "G1_ALL")),
        columns=columns,
        ego_key=ego_key,
        tasks={},
    )
    if version == "v2.1":
        _list_v21(dataset)
    elif version == "v3.0":
        _list_v30(dataset)
    else:
        raise InputError(f"unsupported codebase_version {version!r} (v2.1 or v3.0)", path=str(info_path))
    if not dataset.episodes:
        raise InputError("dataset has no episodes", path=str(info_path))
    return dataset


def _list_v21(ds: RawDataset) -> None:
    info, root = ds.info, ds.root
    if "{episode_index" not in info["data_path"]:
        raise InputError(
            "info.json says v2.1 but data_path is not per episode (mixed v2.1/v3.0 layout)",
            path=str(root / "meta/info.json"),
        )
    if list(root.glob("data/*/file-*.parquet")):
        raise InputError("v2.1 dataset also holds v3.0 data files (mixed layouts)", path=str(root / "data"))
    chunks_size = int(info.get("chunks_size", 1000))
    for row in read_jsonl(root / "meta/tasks.jsonl"):
        ds.tasks[int(row["task_index"])] = str(row["task"])
    video_path = info.get("video_path")
    for row in read_jsonl(root / "meta/episodes.jsonl"):
        index = int(row["episode_index"])
        chunk = index // chunks_size
        fmt = {"episode_chunk": chunk, "episode_index": index, "chunk_index": chunk}
        video = root / video_path.format(video_key=ds.ego_key, **fmt) if video_path else None
        ds.episodes.append(
            RawEpisode(
                index=index,
                length=int(row["length"]),
                tasks=[str(t) for t in row.get("tasks", [])],
                data_file=root / info["data_path"].format(**fmt),
                video_file=video,
            )
        )
    ds.episodes.sort(key=lambda e: e.index)


def _list_v30(ds: RawDataset) -> None:
    info, root = ds.info, ds.root
    if "{file_index" not in info["data_path"]:
        raise InputError(
            "info.json says v3.0 but data_path is per episode (mixed v2.1/v3.0 layout)",
            path=str(root / "meta/info.json"),
        )
    tasks = read_parquet(root / "meta/tasks.parquet")
    text_column = next((c for c in ("task", "__index_level_0__") if c in tasks.column_names), None)
    if text_column is None or "task_index" not in tasks.column_names:
        raise InputError(
            "tasks.parquet needs task_index and task columns", path=str(root / "meta/tasks.parquet")
        )
    for index, text in zip(tasks["task_index"].to_pylist(), tasks[text_column].to_pylist(), strict=True):
        ds.tasks[int(index)] = str(text)
    files = sorted((root / "meta/episodes").rglob("*.parquet"))
    if not files:
        raise InputError("v3.0 dataset without meta/episodes/*.parquet", path=str(root / "meta/episodes"))
    video_path = info.get("video_path")
    key = ds.ego_key
    for file in files:
        rows = read_parquet(file).to_pylist()
        for row in rows:
            index = int(row["episode_index"])
            data_file = root / info["data_path"].format(
                chunk_index=row["data/chunk_index"], file_index=row["data/file_index"]
            )
            video, frames = None, None
            if video_path and f"videos/{key}/chunk_index" in row:
                video = root / video_path.format(
                    video_key=key,
                    chunk_index=row[f"videos/{key}/chunk_index"],
                    file_index=row[f"videos/{key}/file_index"],
                )
                first = round(float(row[f"videos/{key}/from_timestamp"]) * ds.fps)
                end = round(float(row[f"videos/{key}/to_timestamp"]) * ds.fps)
                frames = (first, end)
            ds.episodes.append(
                RawEpisode(
                    index=index,
                    length=int(row["length"]),
                    tasks=[str(t) for t in (row.get("tasks") or [])],
                    data_file=data_file,
                    shared_file=True,
                    video_file=video,
                    video_frames=frames,
                )
            )
    ds.episodes.sort(key=lambda e: e.index)


def column_matrix(table: pa.Table, column: str, width: int, *, path: Path, episode: int) -> np.ndarray:
    """(rows, width) float32 from a scalar, ``list`` or ``fixed_size_list`` column, checking the width."""
    if column not in table.column_names:
        raise InputError("column missing from parquet file", path=str(path), column=column, episode=episode)
    array = table.column(column).combine_chunks()
    if array.null_count:
        raise InputError(f"{array.null_count} null values", path=str(path), column=column, episode=episode)
    kind = array.type
    rows = len(array)
    if pa.types.is_fixed_size_list(kind):
        if kind.list_size != width:
            raise InputError(
                f"fixed_size_list of {kind.list_size} values, expected {width}",
                path=str(path),
                column=column,
                episode=episode,
            )
        values = array.flatten()
    elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
        lengths = pc.list_value_length(array).to_numpy(zero_copy_only=False)
        bad = np.flatnonzero(lengths != width)
        if bad.size:
            raise InputError(
                f"row {int(bad[0])} has {int(lengths[bad[0]])} values, expected {width} "
                f"({bad.size} rows wrong)",
                path=str(path),
                column=column,
                episode=episode,
            )
        values = array.flatten()
    elif pa.types.is_floating(kind) or pa.types.is_integer(kind):
        if width != 1:
            raise InputError(
                f"scalar column, expected {width} values per row",
                path=str(path),
                column=column,
                episode=episode,
            )
        values = array
    else:
        raise InputError(f"unsupported column type {kind}", path=str(path), column=column, episode=episode)
    if values.null_count:
        raise InputError("null values inside lists", path=str(path), column=column, episode=episode)
    flat = values.to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    return flat.reshape(rows, width)
