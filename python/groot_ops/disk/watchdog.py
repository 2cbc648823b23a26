"""The training watchdog: before each save, make sure the next checkpoint fits.

The training supervisor calls :func:`ensure_fits` before every save interval. ``ok``: it fits as is;
``cleaned``: the policy reclaimed space and now it fits; ``insufficient``: even after reclaiming it
does not fit, and the supervisor must stop the trainer between saves with status ``failed:disk`` (the
``message`` says what to free) so that a later run resumes from the last complete checkpoint.

The verdict is taken only when no save is in flight: while a running run's output dir is still being
written (a checkpoint, then the rotation that deletes the oldest), free space is about to change, so
:func:`ensure_fits` first waits until the output dirs have been quiet for ``save_settle_seconds``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from groot_ops.disk.checkpoints import learned_checkpoint_bytes
from groot_ops.disk.config import DiskGuardConfig
from groot_ops.disk.policy import run_policy
from groot_ops.disk.usage import newest_mtime
from groot_ops.errors import ConfigError


def _running_outputs(config: DiskGuardConfig) -> list[Path]:
    return [Path(run.output_dir) for run in config.all_runs() if run.state == "running"]


def next_checkpoint_estimate(config: DiskGuardConfig) -> int | None:
    """The largest newest complete checkpoint among the running runs (learned, not configured)."""
    sizes = [learned_checkpoint_bytes(path) for path in _running_outputs(config)]
    known = [size for size in sizes if size]
    return max(known) if known else None


def _last_save_activity(output_dir: Path) -> float:
    # Saves write inside checkpoint-N and rotation removes one (the output dir's own mtime); logs the
    # trainer keeps appending elsewhere under output_dir must not keep the watchdog waiting.
    newest = output_dir.stat().st_mtime
    for ckpt in (p for p in output_dir.glob("checkpoint-*") if p.is_dir()):
        newest = max(newest, newest_mtime(ckpt))
    return newest


def wait_for_quiet_outputs(config: DiskGuardConfig) -> float:
    """Block until no running run saved or rotated for ``save_settle_seconds``; return seconds waited."""
    started = time.monotonic()
    deadline = started + config.save_settle_timeout_seconds
    outputs = [path for path in _running_outputs(config) if path.is_dir()]
    while outputs:
        try:
            quiet_for = time.time() - max(_last_save_activity(path) for path in outputs)
        except FileNotFoundError:  # rotation removed something while we looked
            quiet_for = 0.0
        if quiet_for >= config.save_settle_seconds or time.monotonic() >= deadline:
            break
        time.sleep(min(0.25, max(0.01, config.save_settle_seconds - quiet_for)))
    return time.monotonic() - started


def ensure_fits(config: dict[str, Any] | DiskGuardConfig, *, next_checkpoint_bytes: int | None) -> dict:
    """Check, clean if needed, and say whether a checkpoint of ``next_checkpoint_bytes`` fits.

    ``next_checkpoint_bytes`` None or 0 learns it from the newest complete checkpoint of the running
    runs in ``config`` (with nothing to learn from, only the percentage watermarks apply). Returns
    ``status`` (``ok``|``cleaned``|``insufficient``), ``free_bytes`` (after cleaning), ``need_bytes``
    (size × ``checkpoint_margin``), ``checkpoint_bytes``, ``freed_bytes``, ``steps``, ``changed``,
    ``waited_s`` and ``message``.
    """
    cfg = DiskGuardConfig.from_dict(config)
    if next_checkpoint_bytes is not None and next_checkpoint_bytes < 0:
        raise ConfigError(f"disk watchdog: next_checkpoint_bytes must be >= 0, got {next_checkpoint_bytes}")
    waited = wait_for_quiet_outputs(cfg)
    size = next_checkpoint_bytes or next_checkpoint_estimate(cfg) or 0
    result = run_policy(cfg, need_bytes=size)
    need = int(size * cfg.checkpoint_margin)
    free = result["free_after"]
    if free < need:
        status = "insufficient"
        message = (
            f"next checkpoint needs {need} bytes free on {cfg.watch_path} "
            f"({size} × {cfg.checkpoint_margin}), only {free} free after reclaiming "
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
        "checkpoint_bytes": size,
        "freed_bytes": result["freed_bytes"],
        "steps": result["steps"],
        "waited_s": round(waited, 3),
        "message": message,
    }
