"""Inference-only export of a GR00T checkpoint as a directory of hardlinks.

The export holds exactly what ``run_gr00t_server.py`` loads (groot-n16-contract.md section 6) and
nothing that only resuming needs (optimizer, scheduler, RNG, trainer state, ZeRO shards): the
original runbook exported too little, a naive copy exports 10+ GB too much.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from groot_ops.atomic import link_or_copy, staged_directory
from groot_ops.errors import InputError
from groot_ops.train.checkpoints import (
    CHECKPOINT_NAME,
    INDEX_FILE,
    MODEL_CONFIG,
    PROCESSOR_FILES,
    SERVABLE,
    latest_complete,
    missing_files,
    weight_files,
)

INDEX = INDEX_FILE
OPTIONAL_DIRS = ("experiment_cfg",)
# Written next to the export by the model card step; an export re-run keeps them.
CARD_FILES = ("README.md", "loss_curve.png")
CHECKPOINT_RE = CHECKPOINT_NAME


def missing_for_inference(checkpoint: Path) -> list[str]:
    """What the server needs that ``checkpoint`` lacks (empty: exportable): the one completeness rule."""
    return missing_files(checkpoint, SERVABLE)


def choose_checkpoint(output_dir: str | os.PathLike[str], step: int | None = None) -> Path:
    """``checkpoint-<step>`` of ``output_dir``, or by default the newest servable one."""
    root = Path(output_dir)
    if CHECKPOINT_RE.match(root.name):
        return root
    if not root.is_dir():
        raise InputError("training output directory does not exist", path=str(root))
    if step is not None:
        chosen = root / f"checkpoint-{step}"
        if not chosen.is_dir():
            raise InputError(f"no checkpoint for step {step}", path=str(chosen))
        return chosen
    found = latest_complete(root, SERVABLE)
    if found is None:
        raise InputError("no complete (servable) checkpoint-N directory to export", path=str(root))
    return found


def plan_export(checkpoint: Path) -> dict[str, Path]:
    """Relative export path -> source file; refuses an incomplete checkpoint naming what is missing."""
    if not checkpoint.is_dir():
        raise InputError("checkpoint directory does not exist", path=str(checkpoint))
    missing = missing_for_inference(checkpoint)
    if missing:
        raise InputError(f"checkpoint is incomplete, missing: {', '.join(missing)}", path=str(checkpoint))
    shards = weight_files(checkpoint)
    stray = sorted(p.name for p in checkpoint.glob("model-*.safetensors") if p.name not in shards)
    if stray:
        raise InputError(f"shards not named in {INDEX}: {', '.join(stray)}", path=str(checkpoint))
    index = (INDEX,) if (checkpoint / INDEX).is_file() else ()
    plan = {name: checkpoint / name for name in (MODEL_CONFIG, *index, *PROCESSOR_FILES, *shards)}
    for folder in OPTIONAL_DIRS:
        for path in sorted((checkpoint / folder).rglob("*")):
            if path.is_file():
                plan[path.relative_to(checkpoint).as_posix()] = path
    return plan


def _same_file(src: Path, dst: Path) -> bool:
    try:
        if os.path.samefile(src, dst):
            return True
        a, b = src.stat(), dst.stat()
    except FileNotFoundError:
        return False
    # A cross-filesystem copy keeps size and mtime (copy2), which is what makes it the same export.
    return a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns


def _existing_files(export: Path) -> list[str]:
    if not export.is_dir():
        return []
    return sorted(
        p.relative_to(export).as_posix()
        for p in export.rglob("*")
        if p.is_file() and p.relative_to(export).as_posix() not in CARD_FILES
    )


def list_export_files(export_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """``[{path, size}]`` of an existing export, card files excluded (the model card's file list)."""
    export = Path(export_dir)
    return [{"path": rel, "size": (export / rel).stat().st_size} for rel in _existing_files(export)]


def export_inference_model(
    checkpoint_dir: str | os.PathLike[str],
    export_dir: str | os.PathLike[str],
    *,
    check: bool = False,
    step: int | None = None,
) -> dict[str, Any]:
    """Export ``checkpoint_dir`` (a ``checkpoint-N`` or a training output dir) to ``export_dir``.

    Returns ``changed, export_dir, checkpoint, step, files [{path, size}], bytes, linked, copied,
    diff``. The export is staged and renamed, so a failure leaves the previous export in place.
    """
    checkpoint = choose_checkpoint(checkpoint_dir, step)
    plan = plan_export(checkpoint)
    export = Path(export_dir)
    match = CHECKPOINT_RE.match(checkpoint.name)
    files = [{"path": rel, "size": src.stat().st_size} for rel, src in sorted(plan.items())]
    before = _existing_files(export)
    result: dict[str, Any] = {
        "export_dir": str(export),
        "checkpoint": str(checkpoint),
        "step": int(match.group(1)) if match else None,
        "files": files,
        "bytes": sum(f["size"] for f in files),
        "linked": 0,
        "copied": 0,
        "diff": {"before": before, "after": sorted(plan)},
    }
    unchanged = before == sorted(plan) and all(_same_file(src, export / rel) for rel, src in plan.items())
    if unchanged or check:
        return {**result, "changed": not unchanged}
    counts = {"link": 0, "copy": 0}
    with staged_directory(export) as stage:
        for rel, src in plan.items():
            counts[link_or_copy(src, stage / rel)] += 1
        for name in CARD_FILES:
            if (export / name).is_file():
                link_or_copy(export / name, stage / name)
    return {**result, "changed": True, "linked": counts["link"], "copied": counts["copy"]}
