"""The loss history of a whole run, across attempts: ``trainer_state.json`` is the ground truth.

HF Trainer keeps ``log_history`` in every ``checkpoint-N/trainer_state.json`` and carries it over a
resume, so the newest resumable checkpoint holds the curve from step 0 to N whichever attempt logged
it. What no checkpoint holds (the steps of a failed attempt after its last save, the current attempt
since its last save) comes from the attempts record the supervisor keeps in the run directory
(``attempts.json``: when each attempt started, from which step, how it ended, and its live log points).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from groot_ops.atomic import write_json
from groot_ops.train import checkpoints
from groot_ops.train.logparse import is_number, nonfinite_keys


def read_trainer_state(checkpoint_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The checkpoint's trainer state (NaN and Infinity are valid there: json.dumps writes them)."""
    try:
        data = json.loads((Path(checkpoint_dir) / checkpoints.TRAINER_STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _point(entry: dict[str, Any]) -> dict[str, Any] | None:
    if not is_number(entry.get("step")) or not is_number(entry.get("loss")):
        return None
    point: dict[str, Any] = {"step": int(entry["step"]), "loss": float(entry["loss"])}
    for key in ("grad_norm", "learning_rate"):
        if is_number(entry.get(key)):
            point[key] = float(entry[key])
    return point


def checkpoint_history(output_dir: str | os.PathLike[str]) -> tuple[int | None, list[dict[str, Any]]]:
    """(step of the newest resumable checkpoint, its log_history's loss entries), oldest first."""
    latest = checkpoints.latest_complete(output_dir, checkpoints.RESUMABLE)
    if latest is None:
        return None, []
    state = read_trainer_state(latest) or {}
    entries = state.get("log_history") if isinstance(state.get("log_history"), list) else []
    points = [p for p in (_point(e) for e in entries if isinstance(e, dict)) if p is not None]
    return checkpoints.checkpoint_step(latest), points


def first_nonfinite(points: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first entry whose loss or grad_norm is NaN/inf (HF's filter may log loss 0.0, grad_norm nan)."""
    for point in points:
        if nonfinite_keys(point):
            return {"step": point["step"], "loss": point.get("loss"), "grad_norm": point.get("grad_norm")}
    return None


def plottable(point: dict[str, Any]) -> bool:
    """A point whose loss means something: finite, and not the filter's stand-in for NaN steps."""
    return not nonfinite_keys(point) and math.isfinite(point["loss"])


class Attempts:
    """``attempts.json``: one record per launch of the trainer for this run, across supervisors."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> list[dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return [a for a in data if isinstance(a, dict)] if isinstance(data, list) else []

    def reset(self) -> None:
        self.path.unlink(missing_ok=True)

    def begin(self, *, start_step: int, started_at: float) -> int:
        records = self.load()
        index = len(records)
        records.append({"index": index, "start_step": start_step, "started_at": started_at, "points": []})
        write_json(self.path, records)
        return index

    def update(self, index: int, **fields: Any) -> None:
        records = self.load()
        for record in records:
            if record.get("index") == index:
                record.update(fields)
        write_json(self.path, records)


def run_history(output_dir: str | os.PathLike[str], attempts: list[dict[str, Any]]) -> dict[str, Any]:
    """Everything the loss plot draws: the checkpointed curve, what no checkpoint holds, resumes, failures."""
    saved_step, points = checkpoint_history(output_dir)
    covered = saved_step if saved_step is not None else -1
    unsaved: list[dict[str, Any]] = []
    resumes: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for record in attempts:
        start = int(record.get("start_step") or 0)
        if record.get("index", 0) > 0 and start > 0:
            resumes.append({"step": start, "attempt": record.get("index")})
        live = [p for p in record.get("points") or [] if isinstance(p, dict) and is_number(p.get("step"))]
        unsaved += [p for p in live if p["step"] > covered and is_number(p.get("loss"))]
        failure = record.get("failure")
        if isinstance(failure, dict):
            failures.append(
                {
                    "step": record.get("last_step"),
                    "attempt": record.get("index"),
                    "class": failure.get("class"),
                    "message": failure.get("message"),
                }
            )
    nonfinite = first_nonfinite(points) or first_nonfinite(unsaved)
    return {
        "points": points,
        "checkpoint_step": saved_step,
        "unsaved": sorted(unsaved, key=lambda p: p["step"]),
        "resumes": resumes,
        "failures": failures,
        "nonfinite": nonfinite,
    }
