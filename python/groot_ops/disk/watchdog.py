"""The training watchdog: before each save, make sure the next checkpoint fits.

The training supervisor calls :func:`ensure_fits` before every save interval. ``ok``: it fits as is;
``cleaned``: the policy reclaimed space and now it fits; ``insufficient``: even after reclaiming it
does not fit, and the supervisor must stop the trainer between saves with status ``failed:disk`` (the
``message`` says what to free) so that a later run resumes from the last complete checkpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from groot_ops.disk.checkpoints import learned_checkpoint_bytes
from groot_ops.disk.config import DiskGuardConfig
from groot_ops.disk.policy import run_policy
from groot_ops.errors import ConfigError


def next_checkpoint_estimate(config: DiskGuardConfig) -> int | None:
    """The largest newest complete checkpoint among the running runs (learned, not configured)."""
    sizes = [
        learned_checkpoint_bytes(Path(run.output_dir)) for run in config.all_runs() if run.state == "running"
    ]
    known = [size for size in sizes if size]
    return max(known) if known else None


def ensure_fits(config: dict[str, Any] | DiskGuardConfig, *, next_checkpoint_bytes: int | None) -> dict:
    """Check, clean if needed, and say whether a checkpoint of ``next_checkpoint_bytes`` fits.

    ``next_checkpoint_bytes=None`` learns it from the newest complete checkpoint of the running runs in
    ``config``; with no checkpoint yet the caller must pass an estimate. Returns ``status``
    (``ok``|``cleaned``|``insufficient``), ``free_bytes`` (after cleaning), ``need_bytes`` (size ×
    ``checkpoint_margin``), ``freed_bytes``, ``steps``, ``changed`` and ``message``.
    """
    cfg = DiskGuardConfig.from_dict(config)
    if next_checkpoint_bytes is None:
        next_checkpoint_bytes = next_checkpoint_estimate(cfg)
        if next_checkpoint_bytes is None:
            raise ConfigError(
                "disk watchdog: no complete checkpoint to learn the size from; pass next_checkpoint_bytes"
            )
    if next_checkpoint_bytes < 0:
        raise ConfigError(f"disk watchdog: next_checkpoint_bytes must be >= 0, got {next_checkpoint_bytes}")
    result = run_policy(cfg, need_bytes=next_checkpoint_bytes)
    need = result["required_bytes"]
    free = result["free_after"]
    if free < need:
        status = "insufficient"
        message = (
            f"next checkpoint needs {need} bytes free on {cfg.watch_path} "
            f"({next_checkpoint_bytes} × {cfg.checkpoint_margin}), only {free} free after reclaiming "
            f"{result['freed_bytes']} bytes; free space there and resume"
        )
    elif result["changed"]:
        status = "cleaned"
        message = f"reclaimed {result['freed_bytes']} bytes on {cfg.watch_path}; next checkpoint fits"
    else:
        status = "ok"
        message = f"next checkpoint fits on {cfg.watch_path} ({free} free, {need} needed)"
    return {
        "status": status,
        "changed": result["changed"],
        "free_bytes": free,
        "need_bytes": need,
        "checkpoint_bytes": next_checkpoint_bytes,
        "freed_bytes": result["freed_bytes"],
        "steps": result["steps"],
        "message": message,
    }
