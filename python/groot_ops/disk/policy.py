"""The disk-guard policy: one function, used by ``cleanup.yml``, the preflight budget and the watchdog.

Watermarks: the policy acts when free space on ``watch_path`` is below ``act_below_percent`` of the
filesystem or below ``need_bytes × checkpoint_margin``; once acting it runs the steps in order until
``stop_at_percent`` (and the need) is free, so that it does not run again at the next save. With
``target: all`` it reclaims everything reclaimable regardless of watermarks (the on-demand cleanup).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from groot_ops.disk.config import DiskGuardConfig
from groot_ops.disk.protected import build_protected_set
from groot_ops.disk.steps import STEP_NAMES, STEPS, StepContext
from groot_ops.disk.usage import disk_usage
from groot_ops.errors import ConfigError


def _load(config: dict[str, Any] | DiskGuardConfig) -> DiskGuardConfig:
    cfg = DiskGuardConfig.from_dict(config)
    if not Path(cfg.watch_path).is_dir():
        raise ConfigError(f"disk guard: watch_path {cfg.watch_path} is not a directory")
    return cfg


def run_policy(config: dict[str, Any] | DiskGuardConfig, *, check: bool = False, need_bytes: int = 0) -> dict:
    """Run the cleanup steps as the watermarks (or ``target: all``) ask.

    Returns ``changed``, ``freed_bytes`` (what would be freed, in check mode), ``steps`` (each with
    ``name``, ``freed_bytes``, ``items``, ``protected``), ``free_before``, ``free_after`` (simulated in
    check mode), ``total_bytes``, ``required_bytes`` (the minimum that must be free), ``goal_bytes``,
    ``acted`` and ``ok`` (``free_after >= required_bytes``), plus ``diff``.
    """
    if need_bytes < 0:
        raise ConfigError(f"disk guard: need_bytes must be >= 0, got {need_bytes}")
    cfg = _load(config)
    total, free_before = disk_usage(cfg.watch_path)
    percent_floor = int(total * cfg.act_below_percent / 100)
    need_floor = int(need_bytes * cfg.checkpoint_margin)
    required = need_floor if need_bytes else percent_floor
    if cfg.target == "all":
        acted, goal = True, None
    else:
        acted = free_before < max(percent_floor, need_floor)
        goal = max(int(total * cfg.stop_at_percent / 100), need_floor)
    protected = build_protected_set(cfg)
    ctx = StepContext(config=cfg, protected=protected, check=check, goal_free=goal, free_before=free_before)
    steps = [STEPS[name](ctx).as_dict() for name in (cfg.steps or STEP_NAMES)] if acted else []
    free_after = ctx.free_now()
    freed = sum(step["freed_bytes"] for step in steps)
    deleted = [f"{step['name']}: {item}" for step in steps for item in step["items"]]
    return {
        "changed": bool(deleted),
        "check": check,
        "acted": acted,
        "freed_bytes": freed,
        "steps": steps,
        "free_before": free_before,
        "free_after": free_after,
        "total_bytes": total,
        "need_bytes": need_bytes,
        "required_bytes": required,
        "goal_bytes": goal,
        "ok": free_after >= required,
        "protected": protected.paths(),
        "diff": {
            "before_header": f"{cfg.watch_path} (reclaimable)",
            "after_header": f"{cfg.watch_path} (after cleanup)",
            "before": "".join(f"{line}\n" for line in deleted),
            "after": "",
        },
    }


def reclaimable_bytes(config: dict[str, Any] | DiskGuardConfig) -> int:
    """Everything the policy could reclaim right now (a check-mode run with ``target: all``)."""
    cfg = dataclasses.replace(_load(config), target="all")
    return int(run_policy(cfg, check=True)["freed_bytes"])
