"""Helpers for data-engine tests: small synthetic datasets and ways to damage them."""

from __future__ import annotations

import shutil
from pathlib import Path

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


def make_long_v30(path: Path, *, codec: str) -> Path:
    """A v3.0 raw dataset of 1,500-frame episodes, several per concatenated file, ego camera only."""
    options: dict[str, object] = {"lengths": LONG_LENGTHS, "cameras": ("cam_left_high",), **LONG_V30}
    return make_raw(path, version="v3.0", codec=codec, **options)


def make_raw(path: Path, *, version: str = "v2.1", seed: int = 0, **kwargs: object) -> Path:
    options: dict[str, object] = {"lengths": LENGTHS, "tasks": TASKS, "seed": seed, "codec": "h264"}
    options.update(kwargs)
    synth_raw_dataset(path, version=version, **options)  # type: ignore[arg-type]
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
