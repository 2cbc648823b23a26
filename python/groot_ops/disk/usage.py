"""Byte accounting: what deleting a path really frees, and how full a filesystem is."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path


def disk_usage(path: str | os.PathLike[str]) -> tuple[int, int]:
    """(total, free) bytes of the filesystem holding ``path``; free is what an unprivileged writer gets."""
    usage = shutil.disk_usage(path)
    return usage.total, usage.free


def reclaimable_bytes(
    paths: Iterable[str | os.PathLike[str]], *, counted: set[tuple[int, int]] | None = None
) -> int:
    """Bytes freed by deleting every path in ``paths`` together.

    Counts allocated blocks, not apparent sizes, and counts a hardlinked file only when every one of
    its links is being deleted: an inference export hardlinks checkpoint shards, so deleting the
    checkpoint alone frees nothing for those files. Inodes in ``counted`` are skipped and the ones
    counted now are added to it, so that a dry run over several steps counts every file once.
    """
    seen_links: dict[tuple[int, int], int] = {}
    blocks: dict[tuple[int, int], int] = {}
    nlinks: dict[tuple[int, int], int] = {}
    for path in paths:
        for st in _walk_stats(Path(path)):
            key = (st.st_dev, st.st_ino)
            seen_links[key] = seen_links.get(key, 0) + 1
            blocks[key] = st.st_blocks * 512
            nlinks[key] = st.st_nlink
    freed = [key for key in blocks if seen_links[key] >= nlinks[key]]
    if counted is not None:
        freed = [key for key in freed if key not in counted]
        counted.update(freed)
    return sum(blocks[key] for key in freed)


def allocated_bytes(paths: Iterable[str | os.PathLike[str]]) -> int:
    """Blocks allocated to ``paths`` (each inode once), whether or not other links keep them alive."""
    blocks: dict[tuple[int, int], int] = {}
    for path in paths:
        for st in _walk_stats(Path(path)):
            blocks[(st.st_dev, st.st_ino)] = st.st_blocks * 512
    return sum(blocks.values())


def _walk_stats(root: Path) -> Iterable[os.stat_result]:
    try:
        st = root.lstat()
    except FileNotFoundError:
        return
    yield st
    if not root.is_dir() or root.is_symlink():
        return
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in (*dirnames, *filenames):
            try:
                yield os.lstat(os.path.join(dirpath, name))
            except FileNotFoundError:
                continue


def newest_mtime(root: Path) -> float:
    """Newest mtime of ``root`` and everything in it (a directory's own mtime misses deep writes)."""
    newest = root.lstat().st_mtime
    if root.is_dir() and not root.is_symlink():
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            for name in (*dirnames, *filenames):
                try:
                    newest = max(newest, os.lstat(os.path.join(dirpath, name)).st_mtime)
                except FileNotFoundError:
                    continue
    return newest
