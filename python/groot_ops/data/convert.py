"""Raw Unitree G1 (LeRobot v2.1 or v3.0) -> GR00T ``UNITREE_G1`` per-episode layout.

Episodes are converted with numpy column slicing in a thread pool (pyarrow releases the GIL for
reads and writes). Only the eight columns the 31/23 layout needs are read. The output is staged
and renamed into place; an unchanged input with unchanged options touches nothing.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from groot_ops.atomic import link_or_copy, staged_directory
from groot_ops.data import schema
from groot_ops.data.fingerprint import (
    bytes_digest,
    dataset_fingerprint,
    digest_files,
    ensure_replaceable,
    read_record,
    tool_version,
    write_record,
)
from groot_ops.data.rawread import RawDataset, RawEpisode, column_matrix, open_raw
from groot_ops.errors import InputError

_INPUT_INDEX_COLUMNS = ("timestamp", "task_index", "episode_index")
# Bump when v3.0 cuts of the same source would differ (2: frame n at pts n in 1/fps).
VIDEO_CUT_VERSION = 2


def workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def source_fingerprint(ds: RawDataset, known: dict[str, str] | None = None) -> str:
    """Content of meta and parquet files; size+mtime of the ego videos (hashing GBs of video is too slow)."""
    content = digest_files(ds.root, [*ds.meta_files(), *ds.data_files()], known=known)
    videos = digest_files(ds.root, ds.video_files(), content=False)
    return digest_files_combine(content, videos)


def digest_files_combine(*parts: str) -> str:
    import hashlib

    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def write_parquet_hashed(table: pa.Table, target: Path) -> str:
    """Write ``table`` to ``target`` and return the SHA-256 of the bytes, without reading them back.

    Dictionary encoding is kept for the constant index columns only: on float columns it is
    attempted, fails and falls back, which costs more than the whole write.
    """
    sink = pa.BufferOutputStream()
    dictionary = [c for c in ("episode_index", "task_index") if c in table.column_names]
    pq.write_table(table, sink, use_dictionary=dictionary)
    buffer = sink.getvalue()
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as handle:
        handle.write(buffer)
    return bytes_digest(memoryview(buffer))


def _fsl(matrix: np.ndarray) -> pa.FixedSizeListArray:
    return pa.FixedSizeListArray.from_arrays(pa.array(matrix.reshape(-1)), matrix.shape[1])


def build_matrices(
    table: pa.Table, columns: dict[str, str], *, path: Path, episode: int
) -> tuple[np.ndarray, np.ndarray]:
    """The 31-dim state and 23-dim action matrices of one episode (mapping in unitree-datasets.md)."""

    def get(role: str, width: int) -> np.ndarray:
        return column_matrix(table, columns[role], width, path=path, episode=episode)

    rows = table.num_rows
    state = np.empty((rows, schema.STATE_DIM), dtype=np.float32)
    state[:, 0:29] = get("obs_body", 29)
    state[:, 29:30] = get("obs_left_gripper", 1)
    state[:, 30:31] = get("obs_right_gripper", 1)
    body = get("act_body", 7)
    action = np.empty((rows, schema.ACTION_DIM), dtype=np.float32)
    action[:, 0:7] = get("act_left_arm", 7)
    action[:, 7:14] = get("act_right_arm", 7)
    action[:, 14:15] = get("act_left_gripper", 1)
    action[:, 15:16] = get("act_right_gripper", 1)
    action[:, 16:19] = body[:, 3:6]
    action[:, 19:20] = body[:, 6:7]
    action[:, 20:23] = body[:, 0:3]
    return state, action


class _Plan:
    """Output numbering decided up front so that episodes can be written in any order."""

    def __init__(self, ds: RawDataset) -> None:
        self.task_texts: list[str] = []
        self.task_of_text: dict[str, int] = {}
        for _index, text in sorted(ds.tasks.items()):
            if text not in self.task_of_text:
                self.task_of_text[text] = len(self.task_texts)
                self.task_texts.append(text)
        self.task_map = {index: self.task_of_text[text] for index, text in ds.tasks.items()}
        self.starts: list[int] = []
        total = 0
        for episode in ds.episodes:
            self.starts.append(total)
            total += episode.length


def _episode_table(
    ds: RawDataset, episode: RawEpisode, out_index: int, start: int, plan: _Plan, source: pa.Table
) -> pa.Table:
    path = episode.data_file
    if source.num_rows != episode.length:
        raise InputError(
            f"{source.num_rows} rows but the episode index says length {episode.length}",
            path=str(path),
            episode=episode.index,
        )
    for column in _INPUT_INDEX_COLUMNS:
        if column not in source.column_names:
            raise InputError(
                "column missing from parquet file", path=str(path), column=column, episode=episode.index
            )
    state, action = build_matrices(source, ds.columns, path=path, episode=episode.index)
    task_in = source.column("task_index").to_numpy()
    unknown = sorted(set(np.unique(task_in).tolist()) - set(plan.task_map))
    if unknown:
        raise InputError(
            f"task_index {unknown[0]} is not in the dataset's tasks",
            path=str(path),
            column="task_index",
            episode=episode.index,
        )
    lookup = np.zeros(max(plan.task_map) + 1, dtype=np.int64)
    for old, new in plan.task_map.items():
        lookup[old] = new
    rows = source.num_rows
    return pa.table(
        {
            schema.STATE_KEY: _fsl(state),
            schema.ACTION_KEY: _fsl(action),
            "timestamp": pc.cast(source.column("timestamp"), pa.float32()),
            "frame_index": pa.array(np.arange(rows, dtype=np.int64)),
            "episode_index": pa.array(np.full(rows, out_index, dtype=np.int64)),
            "index": pa.array(np.arange(start, start + rows, dtype=np.int64)),
            "task_index": pa.array(lookup[task_in.astype(np.int64)]),
        }
    )


def _convert_data(ds: RawDataset, stage: Path, plan: _Plan) -> tuple[dict[str, str], dict[str, str]]:
    """Write every episode; returns content digests of (source files read, output files written)."""
    needed = [*ds.columns.values(), *_INPUT_INDEX_COLUMNS]
    numbered = list(enumerate(ds.episodes))
    read_digests: dict[str, str] = {}
    written_digests: dict[str, str] = {}

    def write(out_index: int, episode: RawEpisode, source: pa.Table) -> None:
        table = _episode_table(ds, episode, out_index, plan.starts[out_index], plan, source)
        rel = schema.data_file(out_index)
        written_digests[rel] = write_parquet_hashed(table, stage / rel)

    def read_columns(path: Path, episode: int | None) -> pa.Table:
        if not path.is_file():
            raise InputError("missing parquet file", path=str(path), episode=episode)
        try:
            present = set(pq.read_schema(path).names)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(
                f"unreadable parquet (truncated or corrupt?): {exc}", path=str(path), episode=episode
            ) from exc
        missing = [c for c in needed if c not in present]
        if missing:
            raise InputError(
                "column missing from parquet file", path=str(path), column=missing[0], episode=episode
            )
        # One read serves both the source fingerprint and the conversion.
        data = path.read_bytes()
        read_digests[path.relative_to(ds.root).as_posix()] = bytes_digest(data)
        try:
            return pq.read_table(pa.BufferReader(data), columns=needed)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(
                f"unreadable parquet (truncated or corrupt?): {exc}", path=str(path), episode=episode
            ) from exc

    def one_v21(item: tuple[int, RawEpisode]) -> None:
        out_index, episode = item
        write(out_index, episode, read_columns(episode.data_file, episode.index))

    def one_v30_file(items: list[tuple[int, RawEpisode]]) -> None:
        path = items[0][1].data_file
        table = read_columns(path, None)
        episode_column = table.column("episode_index").to_numpy()
        for out_index, episode in items:
            rows = np.flatnonzero(episode_column == episode.index)
            if rows.size and rows[-1] - rows[0] + 1 != rows.size:
                raise InputError("episode rows are not contiguous", path=str(path), episode=episode.index)
            source = table.slice(int(rows[0]), int(rows.size)) if rows.size else table.slice(0, 0)
            write(out_index, episode, source)

    with ThreadPoolExecutor(workers()) as pool:
        if ds.version == "v2.1":
            list(pool.map(one_v21, numbered))
        else:
            groups: dict[Path, list[tuple[int, RawEpisode]]] = defaultdict(list)
            for item in numbered:
                groups[item[1].data_file].append(item)
            list(pool.map(one_v30_file, groups.values()))
    return read_digests, written_digests


def _convert_videos(ds: RawDataset, stage: Path) -> dict[str, int]:
    from groot_ops.data.video import Segment, cut_segments, frame_count, timing_problems

    counts = {"linked": 0, "copied": 0, "cut": 0}
    numbered = list(enumerate(ds.episodes))
    for _out, episode in numbered:
        if episode.video_file is None or not episode.video_file.is_file():
            raise InputError(
                f"ego camera video missing ({ds.ego_key})",
                path=str(episode.video_file or ds.root / "videos"),
                column=ds.ego_key,
                episode=episode.index,
            )
    if ds.version == "v2.1":

        def link(item: tuple[int, RawEpisode]) -> str:
            out_index, episode = item
            assert episode.video_file is not None
            frames, _method = frame_count(episode.video_file)
            if frames != episode.length:
                raise InputError(
                    f"video has {frames} frames but the episode has {episode.length} rows",
                    path=str(episode.video_file),
                    column=ds.ego_key,
                    episode=episode.index,
                )
            # resolve(): a snapshot may hold symlinks into a cache; a link to the symlink would dangle.
            return link_or_copy(episode.video_file.resolve(), stage / schema.video_file(out_index))

        with ThreadPoolExecutor(workers()) as pool:
            for how in pool.map(link, numbered):
                counts["linked" if how == "link" else "copied"] += 1
        return counts

    groups: dict[Path, list[tuple[int, RawEpisode]]] = defaultdict(list)
    for item in numbered:
        assert item[1].video_file is not None
        groups[item[1].video_file].append(item)

    def cut(source: Path) -> None:
        items = groups[source]
        segments = []
        for out_index, episode in items:
            assert episode.video_frames is not None
            first, end = episode.video_frames
            segments.append(Segment(first, end, stage / schema.video_file(out_index), episode.index))
        written = cut_segments(source, segments, fps=round(ds.fps))
        for out_index, episode in items:
            target = stage / schema.video_file(out_index)
            got = written.get(str(target), 0)
            if got != episode.length:
                raise InputError(
                    f"cut video has {got} frames but the episode has {episode.length} rows",
                    path=str(source),
                    column=ds.ego_key,
                    episode=episode.index,
                )
            # What the loader will decode: frame n at n / fps, for as long as the episode lasts.
            problems = timing_problems(target, frames=episode.length, fps=ds.fps)
            if problems:
                raise InputError(
                    f"cut video is mistimed: {problems[0]}",
                    path=str(source),
                    column=ds.ego_key,
                    episode=episode.index,
                )

    with ThreadPoolExecutor(workers()) as pool:
        list(pool.map(cut, list(groups)))
    counts["cut"] = len(numbered)
    return counts


def _write_meta(ds: RawDataset, stage: Path, plan: _Plan) -> None:
    meta = stage / "meta"
    meta.mkdir(parents=True, exist_ok=True)
    from groot_ops.data.video import video_feature_info

    source = ds.info["features"][ds.ego_key]
    # Describe the file really written (v3.0: re-encoded H.264), never the source's encoder settings.
    first_video = stage / schema.video_file(0)
    video_info = video_feature_info(first_video, fps=ds.fps)
    ego_feature = {
        "dtype": "video",
        "shape": [video_info["video.height"], video_info["video.width"], 3],
        "names": source.get("names") or ["height", "width", "channel"],
        "info": video_info,
    }
    info = schema.info_json(
        fps=ds.fps,
        robot_type=ds.robot_type,
        episodes=len(ds.episodes),
        frames=ds.frames,
        tasks=len(plan.task_texts),
        ego_feature=ego_feature,
    )
    (meta / "info.json").write_text(json.dumps(info, indent=4) + "\n")
    (meta / "modality.json").write_text(json.dumps(schema.modality_json(), indent=4) + "\n")
    lines = []
    for out_index, episode in enumerate(ds.episodes):
        lines.append(
            json.dumps({"episode_index": out_index, "tasks": episode.tasks, "length": episode.length})
        )
    (meta / "episodes.jsonl").write_text("\n".join(lines) + "\n")
    (meta / "tasks.jsonl").write_text(
        "".join(json.dumps({"task_index": i, "task": t}) + "\n" for i, t in enumerate(plan.task_texts))
    )


def convert_dataset(
    input_dir: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    *,
    ego_camera: str = "cam_left_high",
    check: bool = False,
) -> dict[str, Any]:
    """Convert a raw Unitree G1 dataset; see ``groot_ops.data`` for the ``meta/groot_ops.json`` record."""
    ds = open_raw(input_dir, ego_camera=ego_camera)
    output = Path(output_dir)
    if output.resolve() == ds.root.resolve():
        raise InputError("output must differ from input", path=str(output))
    wanted = {
        "kind": "convert",
        "source": str(ds.root.resolve()),
        "source_version": ds.version,
        "source_fingerprint": None,
        "options": {"ego_camera": ego_camera, "source_camera": ds.ego_key},
        "groot_ops_version": tool_version(),
    }
    if ds.version == "v3.0":
        # Cuts before version 2 stamped every frame at pts 0: an output recorded without it is redone.
        wanted["options"]["video_cut"] = VIDEO_CUT_VERSION
    if not ds.tasks:
        raise InputError("the dataset lists no tasks", path=str(ds.root / "meta"))
    plan = _Plan(ds)
    summary = {
        "output": str(output),
        "source_version": ds.version,
        "episodes": len(ds.episodes),
        "frames": ds.frames,
        "tasks": len(plan.task_texts),
    }
    before = read_record(output)
    before_convert = before.get("convert")
    # Hashing the source up front is only needed to prove a no-op; a first conversion hashes while reading.
    if isinstance(before_convert, dict) and {**before_convert, "source_fingerprint": None} == wanted:
        wanted["source_fingerprint"] = source_fingerprint(ds)
        if before_convert == wanted and before.get("data_fingerprint") == dataset_fingerprint(output):
            return {"changed": False, **summary, "fingerprint": before["data_fingerprint"], "diff": {}}
    diff = {
        "before": {"convert": before_convert} if before_convert else {},
        "after": {"convert": wanted, **summary},
    }
    ensure_replaceable(output)
    if check:
        return {"changed": True, **summary, "fingerprint": None, "diff": diff}
    with staged_directory(output) as stage:
        read_digests, written_digests = _convert_data(ds, stage, plan)
        videos = _convert_videos(ds, stage)
        _write_meta(ds, stage, plan)
        wanted["source_fingerprint"] = source_fingerprint(ds, known=read_digests)
        fingerprint = dataset_fingerprint(stage, known=written_digests)
        write_record(stage, {"convert": wanted, "data_fingerprint": fingerprint})
    return {"changed": True, **summary, "fingerprint": fingerprint, "videos": videos, "diff": diff}
