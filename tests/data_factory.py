"""Helpers for data-engine tests: small synthetic datasets and ways to damage them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from groot_ops.data.convert import convert_dataset
from groot_ops.data.synth import synth_raw_dataset

# One episode shorter than the 30-step horizon and one exactly 30 long: both edge cases of relative stats.
LENGTHS = (45, 20, 30, 37)
TASKS = ("Fold the towel.", "Wipe the table.")
# Real episodes have 1,000-2,400 frames. Data files hold 3 episodes, video files 2: episode 2 sits in the
# first data file but the second video file, whose timestamps restart at 0 (frames stay tiny: 32x32).
LONG_LENGTHS = (1500, 1520, 1480, 1500)
LONG_V30 = {"episodes_per_file": 3, "video_episodes_per_file": 2, "width": 32, "height": 32}


def make_long_v30(path: Path, *, codec: str, **kwargs: object) -> Path:
    """A v3.0 raw dataset of 1,500-frame episodes, several per concatenated file, ego camera only."""
    options: dict[str, object] = {
        "lengths": LONG_LENGTHS,
        "cameras": ("cam_left_high",),
        **LONG_V30,
        **kwargs,
    }
    return make_raw(path, version="v3.0", codec=codec, **options)


def make_raw(path: Path, *, version: str = "v2.1", seed: int = 0, **kwargs: object) -> Path:
    options: dict[str, object] = {"lengths": LENGTHS, "tasks": TASKS, "seed": seed, "codec": "h264"}
    options.update(kwargs)
    synth_raw_dataset(path, version=version, **options)  # type: ignore[arg-type]
    return path


# A GR00T-layout NEW_EMBODIMENT dataset shaped like GR00T-Teleop-G1's g1-pick-apple (7-wide Dex3 hands) and
# the production recipe teleop's modality config (RELATIVE arms, horizon 16).
TELEOP_LENGTHS = (1200, 1350, 1500)
TELEOP_CONFIG = (
    Path(__file__).resolve().parents[1] / "inventory/modality_configs/production/g1_teleop_config.py"
)


def teleop_dataset(path: Path) -> Path:
    """Deterministic: the conformance recorder and the CI tests rebuild the same bytes."""
    from groot_ops.data.synth import synth_groot_dataset

    synth_groot_dataset(path, lengths=TELEOP_LENGTHS, seed=0)
    return path


def make_groot(path: Path, raw: Path) -> Path:
    convert_dataset(raw, path)
    return path


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def rewrite_column(path: Path, column: str, values: pa.Array) -> None:
    table = pq.read_table(path)
    position = table.schema.get_field_index(column)
    table = table.set_column(position, pa.field(column, values.type), values)
    pq.write_table(table, path)


def drop_column(path: Path, column: str) -> None:
    table = pq.read_table(path)
    pq.write_table(table.drop_columns([column]), path)


def truncate(path: Path, keep_fraction: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep_fraction)])


def tree_state(root: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime_ns) of every file under ``root``: equal before and after means nothing was touched."""
    return {
        p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# -- datasets the upstream loader's verdicts are recorded on (tests/fixtures/upstream/data/) -----------
# Rebuilt the same way in CI, where the stand-in's reader must reach the same verdict on each.


def _rewrite_video(video: Path, frames: int) -> None:
    from groot_ops.data.video import VideoWriter

    probe = __import__("av").open(str(video))
    width, height = probe.streams.video[0].width, probe.streams.video[0].height
    probe.close()
    video.unlink()
    writer = VideoWriter(video, fps=30, width=width, height=height, codec="h264")
    for i in range(frames):
        writer.write(np.full((height, width, 3), i % 256, dtype=np.uint8))
    writer.close()


def _edit_jsonl(path: Path, edit: Callable[[list[str]], list[str]]) -> None:
    path.write_text("\n".join(edit(path.read_text().splitlines())) + "\n")


def _shorter_length(lines: list[str]) -> list[str]:
    first = json.loads(lines[0])
    return [json.dumps({**first, "length": first["length"] - 1}), *lines[1:]]


def _drop_video_feature(root: Path) -> None:
    info = json.loads((root / "meta/info.json").read_text())
    del info["features"]["observation.images.ego_view"]
    (root / "meta/info.json").write_text(json.dumps(info, indent=4))


# name -> (what is wrong with a copy of the v2.1 conversion, how to do it)
VERDICT_MUTATIONS: dict[str, Callable[[Path], None]] = {
    "video-shorter-than-rows": lambda r: _rewrite_video(
        r / "videos/chunk-000/observation.images.ego_view/episode_000001.mp4", 19
    ),
    "video-longer-than-rows": lambda r: _rewrite_video(
        r / "videos/chunk-000/observation.images.ego_view/episode_000001.mp4", 25
    ),
    "rows-beyond-length": lambda r: _edit_jsonl(r / "meta/episodes.jsonl", _shorter_length),
    "blank-line-in-episodes": lambda r: _edit_jsonl(
        r / "meta/episodes.jsonl", lambda ls: [ls[0], "", *ls[1:]]
    ),
    "task-index-not-in-tasks": lambda r: rewrite_column(
        r / "data/chunk-000/episode_000001.parquet", "task_index", pa.array([9] * 20, pa.int64())
    ),
    "video-feature-missing": _drop_video_feature,
}


def verdict_datasets(root: Path) -> dict[str, Path]:
    """Our conversions (v2.1, v3.0 with 1,500-frame episodes from AV1, their merge) and broken copies."""
    from groot_ops.data.merge import merge_datasets
    from groot_ops.data.stats import compute_stats

    out = {"v2.1": make_groot(root / "v21", make_raw(root / "raw-v21"))}
    # The v2.1 frame size, so that the two can be merged.
    long_raw = make_long_v30(root / "raw-v30", codec="av1", width=64, height=48)
    out["v3.0-1500"] = make_groot(root / "v30", long_raw)
    merge_datasets([str(out["v2.1"]), str(out["v3.0-1500"])], root / "merged")
    out["merge"] = root / "merged"
    for path in out.values():
        compute_stats(path)
    for name, mutate in VERDICT_MUTATIONS.items():
        mutate(copy_tree(out["v2.1"], root / name))
        out[name] = root / name
    return out
