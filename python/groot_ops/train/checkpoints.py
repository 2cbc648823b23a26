"""Checkpoint completeness (contract section 6) and quarantine of half-written checkpoints."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from groot_ops.errors import InputError

CHECKPOINT_NAME = re.compile(r"^checkpoint-(\d+)$")
INDEX_FILE = "model.safetensors.index.json"


def checkpoint_step(path: str | os.PathLike[str]) -> int | None:
    match = CHECKPOINT_NAME.match(Path(path).name)
    return int(match.group(1)) if match else None


def missing_files(checkpoint_dir: str | os.PathLike[str]) -> list[str]:
    """What makes a checkpoint incomplete; empty when it can be resumed from."""
    ckpt = Path(checkpoint_dir)
    missing: list[str] = []
    if not (ckpt / "trainer_state.json").is_file():
        missing.append("trainer_state.json")
    index = ckpt / INDEX_FILE
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
            shards = sorted(set(weight_map.values()))
        except (ValueError, KeyError, TypeError, AttributeError):
            return [*missing, f"{INDEX_FILE} (unreadable)"]
        missing += [s for s in shards if not (ckpt / s).is_file() or (ckpt / s).stat().st_size == 0]
    elif not (ckpt / "model.safetensors").is_file():
        # Small models are saved unsharded without an index; otherwise the index is required.
        missing.append(INDEX_FILE)
    return missing


def is_complete(checkpoint_dir: str | os.PathLike[str]) -> bool:
    return Path(checkpoint_dir).is_dir() and not missing_files(checkpoint_dir)


def list_checkpoints(output_dir: str | os.PathLike[str]) -> list[Path]:
    """checkpoint-N directories, oldest first (numeric order, as the trainer sorts them)."""
    root = Path(output_dir)
    if not root.is_dir():
        return []
    found = [(checkpoint_step(p), p) for p in root.iterdir() if p.is_dir()]
    return [p for step, p in sorted((s, p) for s, p in found if s is not None)]


def latest_complete(output_dir: str | os.PathLike[str]) -> Path | None:
    for ckpt in reversed(list_checkpoints(output_dir)):
        if is_complete(ckpt):
            return ckpt
    return None


def incomplete(output_dir: str | os.PathLike[str]) -> list[Path]:
    return [c for c in list_checkpoints(output_dir) if not is_complete(c)]


def quarantine_incomplete(
    output_dir: str | os.PathLike[str], quarantine_dir: str | os.PathLike[str], *, check: bool = False
) -> list[dict[str, str]]:
    """Move every incomplete checkpoint aside (the trainer would resume from it and crash).

    Nothing is deleted: the operator can inspect or remove the quarantine later.
    """
    moved: list[dict[str, str]] = []
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target_root = Path(quarantine_dir)
    for ckpt in incomplete(output_dir):
        target = target_root / f"{ckpt.name}-{stamp}"
        entry = {
            "checkpoint": str(ckpt),
            "quarantine": str(target),
            "missing": ", ".join(missing_files(ckpt)),
        }
        if not check:
            target_root.mkdir(parents=True, exist_ok=True)
            suffix = 1
            while target.exists():
                suffix += 1
                target = target_root / f"{ckpt.name}-{stamp}-{suffix}"
            entry["quarantine"] = str(target)
            try:
                os.rename(ckpt, target)
            except OSError as exc:
                raise InputError(
                    f"cannot move incomplete checkpoint to quarantine {target}: {exc}", path=str(ckpt)
                ) from exc
        moved.append(entry)
    return moved


def directory_bytes(path: str | os.PathLike[str]) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total
