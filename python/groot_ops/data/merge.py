"""Merge several GR00T datasets into one, renumbering what the loader reads inside the parquet files.

The original merge renamed episode files but left ``task_index`` (and ``episode_index``/``index``)
untouched inside them, so every episode of the 7-task model trained on task 0 (defect 4). Here
every row gets its new ``episode_index``, global ``index`` and the ``task_index`` of its task text
in the merged, de-duplicated ``tasks.jsonl``. Videos are hardlinked; fps and video info are read
from the inputs and inputs that disagree are refused.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from groot_ops.atomic import link_or_copy, staged_directory
from groot_ops.data import schema
from groot_ops.data.convert import workers, write_parquet_hashed
from groot_ops.data.fingerprint import (
    dataset_fingerprint,
    ensure_replaceable,
    read_record,
    tool_version,
    write_record,
)
from groot_ops.data.rawread import read_jsonl, read_parquet
from groot_ops.errors import InputError


@dataclass
class _Input:
    root: Path
    info: dict[str, Any]
    episodes: list[dict[str, Any]]
    tasks: dict[int, str]

    def data_path(self, episode: int) -> Path:
        return self.root / schema.data_file(episode, int(self.info.get("chunks_size", schema.CHUNKS_SIZE)))

    def video_path(self, episode: int) -> Path:
        size = int(self.info.get("chunks_size", schema.CHUNKS_SIZE))
        return self.root / schema.video_file(episode, size)


def _comparable(feature: dict[str, Any]) -> dict[str, Any]:
    if feature.get("dtype") == "video":
        info = feature.get("info") or feature.get("video_info") or {}
        return {"dtype": "video", "shape": feature.get("shape"), "fps": info.get("video.fps")}
    return {"dtype": feature.get("dtype"), "shape": feature.get("shape")}


def _load_input(path: str | os.PathLike[str]) -> _Input:
    root = Path(path)
    info_path = root / "meta/info.json"
    try:
        info = json.loads(info_path.read_text())
    except FileNotFoundError:
        raise InputError(
            "merge input is not a dataset: meta/info.json missing", path=str(info_path)
        ) from None
    except ValueError as exc:
        raise InputError(f"invalid JSON: {exc}", path=str(info_path)) from exc
    features = info.get("features") or {}
    groot_keys = (schema.STATE_KEY, schema.ACTION_KEY, schema.EGO_VIDEO_KEY)
    if (
        info.get("data_path") != schema.DATA_PATH
        or info.get("video_path") != schema.VIDEO_PATH
        or any(key not in features for key in groot_keys)
    ):
        raise InputError(
            "merge input is not in the GR00T per-episode layout (convert it first)", path=str(info_path)
        )
    tasks = {int(r["task_index"]): str(r["task"]) for r in read_jsonl(root / "meta/tasks.jsonl")}
    episodes = read_jsonl(root / "meta/episodes.jsonl")
    return _Input(root=root, info=info, episodes=episodes, tasks=tasks)


def _check_compatible(inputs: list[_Input]) -> None:
    first = inputs[0]
    for other in inputs[1:]:
        info_path = str(other.root / "meta/info.json")
        if other.info.get("fps") != first.info.get("fps"):
            raise InputError(
                f"fps {other.info.get('fps')} differs from {first.info.get('fps')} of {first.root}",
                path=info_path,
            )
        mine = {k: _comparable(v) for k, v in first.info["features"].items()}
        theirs = {k: _comparable(v) for k, v in other.info["features"].items()}
        if mine != theirs:
            differing = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
            raise InputError(
                f"features differ from {first.root} (layouts cannot be merged)",
                path=info_path,
                column=differing[0],
            )


def merge_datasets(
    inputs: list[str], output_dir: str | os.PathLike[str], *, check: bool = False
) -> dict[str, Any]:
    """One GR00T dataset from ``inputs`` (in order); see ``groot_ops.data`` for the record."""
    if not inputs:
        raise InputError("merge needs at least one input dataset")
    output = Path(output_dir)
    loaded = [_load_input(p) for p in inputs]
    for item in loaded:
        if item.root.resolve() == output.resolve():
            raise InputError("output must not be one of the inputs", path=str(output))
    _check_compatible(loaded)
    wanted = {
        "kind": "merge",
        "inputs": [
            {"path": str(i.root.resolve()), "fingerprint": dataset_fingerprint(i.root)} for i in loaded
        ],
        "groot_ops_version": tool_version(),
    }
    task_texts: list[str] = []
    for item in loaded:
        for _index, text in sorted(item.tasks.items()):
            if text not in task_texts:
                task_texts.append(text)
    episodes = sum(len(i.episodes) for i in loaded)
    frames = sum(int(e["length"]) for i in loaded for e in i.episodes)
    summary = {
        "output": str(output),
        "inputs": [str(i.root) for i in loaded],
        "episodes": episodes,
        "frames": frames,
        "tasks": len(task_texts),
    }
    before = read_record(output)
    if before.get("merge") == wanted and before.get("data_fingerprint") == dataset_fingerprint(output):
        return {"changed": False, **summary, "fingerprint": before["data_fingerprint"], "diff": {}}
    diff = {
        "before": {"merge": before.get("merge")} if before.get("merge") else {},
        "after": {"merge": wanted, **summary},
    }
    ensure_replaceable(output)
    if check:
        return {"changed": True, **summary, "fingerprint": None, "diff": diff}
    with staged_directory(output) as stage:
        jobs, lines = _plan(loaded, task_texts)
        with ThreadPoolExecutor(workers()) as pool:
            written = list(pool.map(lambda job: _rewrite(stage, *job), jobs))
        _write_meta(stage, loaded[0].info, lines, task_texts, frames)
        fingerprint = dataset_fingerprint(stage, known={rel: digest for rel, digest, _ in written})
        links = [how for _, _, how in written]
        write_record(stage, {"merge": wanted, "data_fingerprint": fingerprint})
    return {
        "changed": True,
        **summary,
        "fingerprint": fingerprint,
        "videos": {"linked": links.count("link"), "copied": links.count("copy")},
        "diff": diff,
    }


_Job = tuple[_Input, dict[str, Any], int, int, np.ndarray]


def _plan(loaded: list[_Input], task_texts: list[str]) -> tuple[list[_Job], list[dict[str, Any]]]:
    jobs: list[_Job] = []
    lines = []
    new_episode = 0
    start = 0
    for item in loaded:
        if not item.tasks:
            raise InputError("tasks.jsonl is empty", path=str(item.root / "meta/tasks.jsonl"))
        # -1 marks task indices the input does not define; any row using one is an error.
        lookup = np.full(max(item.tasks) + 1, -1, dtype=np.int64)
        for old, text in item.tasks.items():
            lookup[old] = task_texts.index(text)
        for episode in item.episodes:
            jobs.append((item, episode, new_episode, start, lookup))
            lines.append({**episode, "episode_index": new_episode})
            new_episode += 1
            start += int(episode["length"])
    return jobs, lines


def _rewrite(
    stage: Path, item: _Input, episode: dict[str, Any], new_index: int, start: int, lookup: np.ndarray
) -> tuple[str, str, str]:
    old = int(episode["episode_index"])
    length = int(episode["length"])
    path = item.data_path(old)
    table = read_parquet(path, episode=old)
    if table.num_rows != length:
        raise InputError(
            f"{table.num_rows} rows but episodes.jsonl says {length}", path=str(path), episode=old
        )
    if "task_index" not in table.column_names:
        raise InputError("column missing", path=str(path), column="task_index", episode=old)
    tasks = table.column("task_index").to_numpy().astype(np.int64)
    bad = (tasks < 0) | (tasks >= lookup.size)
    mapped = np.where(bad, -1, lookup[np.clip(tasks, 0, lookup.size - 1)])
    if (mapped < 0).any():
        value = int(tasks[np.flatnonzero(mapped < 0)[0]])
        raise InputError(
            f"task_index {value} is not in tasks.jsonl", path=str(path), column="task_index", episode=old
        )
    replacements = {
        "episode_index": np.full(length, new_index, dtype=np.int64),
        "index": np.arange(start, start + length, dtype=np.int64),
        "task_index": mapped,
    }
    for name, values in replacements.items():
        position = table.schema.get_field_index(name)
        field = pa.field(name, pa.int64())
        table = (
            table.set_column(position, field, pa.array(values))
            if position >= 0
            else table.append_column(field, pa.array(values))
        )
    rel = schema.data_file(new_index)
    digest = write_parquet_hashed(table, stage / rel)
    video = item.video_path(old)
    if not video.is_file():
        raise InputError("ego video missing", path=str(video), column=schema.EGO_VIDEO_KEY, episode=old)
    return rel, digest, link_or_copy(video.resolve(), stage / schema.video_file(new_index))


def _write_meta(
    stage: Path, first_info: dict[str, Any], lines: list[dict[str, Any]], task_texts: list[str], frames: int
) -> None:
    meta = stage / "meta"
    meta.mkdir(parents=True, exist_ok=True)
    info = dict(first_info)
    episodes = len(lines)
    info.update(
        {
            "total_episodes": episodes,
            "total_frames": frames,
            "total_tasks": len(task_texts),
            "total_videos": episodes,
            "total_chunks": (episodes + schema.CHUNKS_SIZE - 1) // schema.CHUNKS_SIZE,
            "chunks_size": schema.CHUNKS_SIZE,
            "splits": {"train": f"0:{episodes}"},
        }
    )
    (meta / "info.json").write_text(json.dumps(info, indent=4) + "\n")
    (meta / "modality.json").write_text(json.dumps(schema.modality_json(), indent=4) + "\n")
    (meta / "episodes.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    (meta / "tasks.jsonl").write_text(
        "".join(json.dumps({"task_index": i, "task": t}) + "\n" for i, t in enumerate(task_texts))
    )
