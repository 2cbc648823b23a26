"""What the disk guard needs to know about checkpoints: which are complete, in step order, and their size.

Completeness is the one rule of ``groot_ops.train.checkpoints``: the guard keeps the newest checkpoint a
run can resume from and the newest one the server can load (after a crash during the processor copy
these differ), so resume, publish and the guard can never disagree about which checkpoint to keep.
"""

from __future__ import annotations

from pathlib import Path

from groot_ops.disk.usage import allocated_bytes
from groot_ops.train.checkpoints import NEEDS, RESUMABLE, Need, list_checkpoints
from groot_ops.train.checkpoints import complete_checkpoints as _complete


def complete_checkpoints(output_dir: Path, need: Need = RESUMABLE) -> list[Path]:
    """Checkpoints of ``output_dir`` complete for ``need``, oldest step first; symlinks are ignored."""
    return _complete(output_dir, need)


def newest_complete(output_dir: Path) -> list[Path]:
    """The newest checkpoint complete for each need (one path when they coincide), oldest first."""
    newest = {found[-1] for need in NEEDS if (found := _complete(output_dir, need))}
    return [p for p in list_checkpoints(output_dir) if p in newest]


def complete_for_any(output_dir: Path) -> list[Path]:
    """Checkpoints complete for at least one need, oldest first."""
    complete = {p for need in NEEDS for p in _complete(output_dir, need)}
    return [p for p in list_checkpoints(output_dir) if p in complete]


def learned_checkpoint_bytes(output_dir: str | Path) -> int | None:
    """Size on disk of the newest resumable checkpoint: the best estimate of the next one.

    Allocated blocks, each inode once: a hardlinked inference export of that checkpoint adds nothing.
    """
    complete = _complete(Path(output_dir), RESUMABLE)
    return allocated_bytes([complete[-1]]) if complete else None
