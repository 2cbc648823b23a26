"""What the disk guard needs to know about checkpoints: which are complete, in step order, and their size.

Completeness is the training supervisor's definition (``groot_ops.train.checkpoints``), so the guard and
the resume logic can never disagree about which checkpoint is the one to keep.
"""

from __future__ import annotations

from pathlib import Path

from groot_ops.disk.usage import allocated_bytes
from groot_ops.train.checkpoints import is_complete, list_checkpoints


def complete_checkpoints(output_dir: Path) -> list[Path]:
    """Complete checkpoints of ``output_dir``, oldest step first; symlinked entries are ignored."""
    return [path for path in list_checkpoints(output_dir) if not path.is_symlink() and is_complete(path)]


def learned_checkpoint_bytes(output_dir: str | Path) -> int | None:
    """Size on disk of the newest complete checkpoint: the best estimate of the next one."""
    complete = complete_checkpoints(Path(output_dir))
    return allocated_bytes([complete[-1]]) if complete else None
