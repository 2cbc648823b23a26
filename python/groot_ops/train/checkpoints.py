"""The one rule for a complete checkpoint (contract section 6), and quarantine of half-written ones.

Upstream's save order (transformers 4.51.3 ``Trainer._save_checkpoint``, then n1.6.1's
``CheckpointFormatCallback.on_save`` in ``gr00t/experiment/utils.py``, both on global rank 0):

1. the weights (``model-*.safetensors`` + ``model.safetensors.index.json``, or ``model.safetensors``),
   ``config.json`` and ``training_args.bin``;
2. ``optimizer.pt``/``scheduler.pt``/``rng_state.pth`` (or DeepSpeed's ``global_stepN/`` per rank);
3. ``trainer_state.json``, then the rotation that deletes the oldest checkpoint;
4. the copy of ``experiment_cfg/``, ``processor_config.json``, ``statistics.json``, ``embodiment_id.json``
   and ``wandb_config.json`` into ``checkpoint-N/``.

A crash before 3 leaves a checkpoint the trainer cannot resume from (``FileNotFoundError`` on its
``trainer_state.json``); a crash between 3 and 4 leaves one it resumes from but that the policy server
cannot load, for ever (the callback only fills the checkpoint being saved). So every caller says what
it needs: ``RESUMABLE`` (the supervisor's resume and quarantine) or ``SERVABLE`` (publish, export). The
disk guard keeps the newest of each.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Literal

from groot_ops.errors import InputError

CHECKPOINT_NAME = re.compile(r"^checkpoint-(\d+)$")
INDEX_FILE = "model.safetensors.index.json"
SINGLE_WEIGHTS = "model.safetensors"
TRAINER_STATE = "trainer_state.json"
MODEL_CONFIG = "config.json"
# What CheckpointFormatCallback.on_save copies from output_dir/processor/ after trainer_state.json.
PROCESSOR_FILES = ("processor_config.json", "statistics.json", "embodiment_id.json")

Need = Literal["resumable", "servable"]
RESUMABLE: Need = "resumable"
SERVABLE: Need = "servable"
NEEDS: tuple[Need, ...] = (RESUMABLE, SERVABLE)


def checkpoint_step(path: str | os.PathLike[str]) -> int | None:
    match = CHECKPOINT_NAME.match(Path(path).name)
    return int(match.group(1)) if match else None


def weight_files(checkpoint_dir: str | os.PathLike[str]) -> list[str]:
    """Names of the weight files the checkpoint declares: the indexed shards, or the single file.

    Raises :class:`InputError` naming the index when it cannot be read.
    """
    ckpt = Path(checkpoint_dir)
    index = ckpt / INDEX_FILE
    if not index.is_file():
        return [SINGLE_WEIGHTS]
    try:
        weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        shards = sorted(set(weight_map.values()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"unreadable shard index ({exc})", path=str(index)) from None
    if not shards or not all(isinstance(s, str) for s in shards):
        raise InputError("shard index has an empty or malformed weight_map", path=str(index))
    return shards


def _has_optimizer_state(ckpt: Path) -> bool:
    if (ckpt / "optimizer.pt").is_file():
        return True
    # DeepSpeed ZeRO: global_stepN/ holds each rank's *optim_states.pt.
    step = checkpoint_step(ckpt)
    zero = ckpt / f"global_step{step}"
    return zero.is_dir() and any(zero.glob("*optim_states.pt"))


def missing_files(checkpoint_dir: str | os.PathLike[str], need: Need = RESUMABLE) -> list[str]:
    """What ``checkpoint_dir`` lacks for ``need``; an empty list means it is complete for it.

    Both needs require the save to have finished (``trainer_state.json``, written after the weights and
    the optimizer state) and every declared weight file (non-empty). ``RESUMABLE`` also requires the
    optimizer state: without ``optimizer.pt`` HF Trainer silently resumes with a fresh optimizer (a warm
    start under the name of a resume). ``SERVABLE`` requires ``config.json`` and the processor files.
    """
    if need not in NEEDS:
        raise ValueError(f"need must be one of {NEEDS}, got {need!r}")
    ckpt = Path(checkpoint_dir)
    missing: list[str] = []
    if not (ckpt / TRAINER_STATE).is_file():
        missing.append(TRAINER_STATE)
    try:
        weights = weight_files(ckpt)
    except InputError:
        return [*missing, f"{INDEX_FILE} (unreadable)"]
    for name in weights:
        path = ckpt / name
        if not path.is_file() or path.stat().st_size == 0:
            missing.append(name)
    if need == RESUMABLE:
        if not _has_optimizer_state(ckpt):
            missing.append(f"optimizer.pt (or global_step{checkpoint_step(ckpt)}/*optim_states.pt)")
    else:
        missing += [name for name in (MODEL_CONFIG, *PROCESSOR_FILES) if not (ckpt / name).is_file()]
    return missing


def is_complete(checkpoint_dir: str | os.PathLike[str], need: Need = RESUMABLE) -> bool:
    return Path(checkpoint_dir).is_dir() and not missing_files(checkpoint_dir, need)


def list_checkpoints(output_dir: str | os.PathLike[str]) -> list[Path]:
    """checkpoint-N directories, oldest first (numeric order, as the trainer sorts them)."""
    root = Path(output_dir)
    if not root.is_dir():
        return []
    found = [(checkpoint_step(p), p) for p in root.iterdir() if p.is_dir()]
    return [p for step, p in sorted((s, p) for s, p in found if s is not None)]


def complete_checkpoints(output_dir: str | os.PathLike[str], need: Need = RESUMABLE) -> list[Path]:
    """Checkpoints complete for ``need``, oldest first; symlinked entries are ignored."""
    return [p for p in list_checkpoints(output_dir) if not p.is_symlink() and is_complete(p, need)]


def latest_complete(output_dir: str | os.PathLike[str], need: Need = RESUMABLE) -> Path | None:
    for ckpt in reversed(list_checkpoints(output_dir)):
        if is_complete(ckpt, need):
            return ckpt
    return None


def incomplete(output_dir: str | os.PathLike[str]) -> list[Path]:
    """Checkpoints the trainer could not (truly) resume from."""
    return [c for c in list_checkpoints(output_dir) if not is_complete(c, RESUMABLE)]


def _quarantine_target(root: Path, name: str, stamp: str) -> Path:
    target = root / f"{name}-{stamp}"
    suffix = 1
    while target.exists():
        suffix += 1
        target = root / f"{name}-{stamp}-{suffix}"
    return target


def quarantine(
    paths: list[Path], quarantine_dir: str | os.PathLike[str], *, reason: str, check: bool = False
) -> list[dict[str, str]]:
    """Move ``paths`` (checkpoint-N dirs) into the quarantine, nothing deleted; ``reason`` is recorded."""
    moved: list[dict[str, str]] = []
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    root = Path(quarantine_dir)
    for ckpt in paths:
        target = _quarantine_target(root, ckpt.name, stamp)
        if not check:
            root.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(ckpt, target)
            except OSError as exc:
                raise InputError(
                    f"cannot move checkpoint to quarantine {target}: {exc}", path=str(ckpt)
                ) from exc
        moved.append({"checkpoint": str(ckpt), "quarantine": str(target), "missing": "", "reason": reason})
    return moved


def quarantine_incomplete(
    output_dir: str | os.PathLike[str], quarantine_dir: str | os.PathLike[str], *, check: bool = False
) -> list[dict[str, str]]:
    """Move every checkpoint that is not resumable aside (the trainer would resume from it and crash).

    Nothing is deleted: the operator can inspect or remove the quarantine later. A checkpoint that is
    resumable but not servable (a crash during the processor copy) stays: the trainer resumes from it.
    """
    moved: list[dict[str, str]] = []
    for ckpt in incomplete(output_dir):
        missing = ", ".join(missing_files(ckpt, RESUMABLE))
        [entry] = quarantine([ckpt], quarantine_dir, reason=f"incomplete (missing {missing})", check=check)
        moved.append({**entry, "missing": missing})
    return moved


def weights_bytes(checkpoint_dir: str | os.PathLike[str]) -> int:
    """Bytes of the weights and model config: what ``trainer.save_model()`` writes again at the end."""
    ckpt = Path(checkpoint_dir)
    try:
        names = [*weight_files(ckpt), MODEL_CONFIG, INDEX_FILE]
    except InputError:
        return 0
    total = 0
    for name in names:
        try:
            total += (ckpt / name).stat().st_size
        except OSError:
            continue
    return total
