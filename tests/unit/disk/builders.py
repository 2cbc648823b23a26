"""Builders of the on-disk layouts the disk guard reads: HF hub cache, checkpoints, caches."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

DAY = 86400


def age(path: Path, days: float) -> None:
    """Set mtime/atime of ``path`` and everything inside it to ``days`` ago."""
    stamp = time.time() - days * DAY
    targets = [path, *path.rglob("*")] if path.is_dir() else [path]
    for target in targets:
        os.utime(target, (stamp, stamp), follow_symlinks=False)


def write_file(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Random-ish content: filesystems may not allocate blocks for zeros written sparsely.
    path.write_bytes(os.urandom(size))
    return path


def hf_repo(
    cache: Path,
    repo_id: str,
    revisions: dict[str, dict[str, int]],
    refs: dict[str, str],
    *,
    repo_type: str = "model",
) -> Path:
    """A repo in the real HF hub cache layout: blobs by hash, refs/<name> -> commit, snapshot symlinks."""
    repo = cache / f"{repo_type}s--{repo_id.replace('/', '--')}"
    for commit, files in revisions.items():
        for name, size in files.items():
            data = hashlib.sha256(f"{repo_id}{commit}{name}".encode()).digest() * (size // 32 + 1)
            blob_hash = hashlib.sha256(data[:size]).hexdigest()
            blob = repo / "blobs" / blob_hash
            blob.parent.mkdir(parents=True, exist_ok=True)
            blob.write_bytes(data[:size])
            link = repo / "snapshots" / commit / name
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(os.path.relpath(blob, link.parent))
    for ref, commit in refs.items():
        (repo / "refs").mkdir(parents=True, exist_ok=True)
        (repo / "refs" / ref).write_text(commit)
    return repo


def commit(n: int) -> str:
    return f"{n:040x}"


def checkpoint(output_dir: Path, step: int, *, size: int = 4096, complete: bool = True) -> Path:
    """A resumable checkpoint (weights, optimizer state, then trainer_state.json, HF Trainer's order)."""
    ckpt = output_dir / f"checkpoint-{step}"
    write_file(ckpt / "model.safetensors", size)
    (ckpt / "config.json").write_text("{}")
    (ckpt / "optimizer.pt").write_bytes(b"\0" * 64)
    if complete:
        (ckpt / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    return ckpt
