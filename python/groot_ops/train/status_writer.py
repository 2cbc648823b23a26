"""The status writer: ``status.json`` and ``loss.png`` of a run, from the live output and the filesystem.

Progress (step, it/s, ETA) comes from the training bar alone; a save is what appears on disk (a new
``checkpoint-N`` that is not complete yet: n1.6.1 prints no save line); the loss curve comes from the
newest checkpoint's ``trainer_state.json`` plus the attempts record (:mod:`groot_ops.train.history`).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from groot_ops.atomic import write_json
from groot_ops.train import checkpoints
from groot_ops.train.history import Attempts, first_nonfinite, run_history
from groot_ops.train.logparse import Progress
from groot_ops.train.plot import write_loss_plot
from groot_ops.train.runfiles import RunFiles
from groot_ops.train.spec import TrainSpec

STATUS_EVERY_S = 10.0
PLOT_EVERY_S = 30.0
LIVE_STATES = ("starting", "compiling", "running", "saving")


class StatusWriter:
    def __init__(self, spec: TrainSpec, files: RunFiles, attempts: Attempts) -> None:
        self.spec = spec
        self.files = files
        self.attempts = attempts
        self.started_at = time.time()
        self.last_status: dict[str, Any] = {}
        self.last_write = 0.0
        self.last_plot = 0.0
        self.plotted: tuple[Any, ...] | None = None
        # The step the current attempt resumed from: a checkpoint at or below it is not being saved now.
        self.attempt_start_step = 0
        self._history_key: tuple[Any, ...] | None = None
        self._history: dict[str, Any] = {}

    # -- what the filesystem says -----------------------------------------------------------
    def saving(self) -> Path | None:
        """The checkpoint this attempt is writing right now, if any."""
        found = checkpoints.list_checkpoints(self.spec.checkpoint_dir)
        if not found:
            return None
        newest = found[-1]
        step = checkpoints.checkpoint_step(newest) or 0
        if step <= self.attempt_start_step:
            return None
        # Weights, optimizer and trainer_state.json first; the processor copy after: saving until servable.
        return None if checkpoints.is_complete(newest, checkpoints.SERVABLE) else newest

    def disk_free(self) -> int | None:
        for candidate in (
            self.spec.checkpoint_dir,
            Path(self.spec.output_dir),
            Path(self.spec.output_dir).parent,
        ):
            if candidate.exists():
                return shutil.disk_usage(candidate).free
        return None

    def live_state(self, progress: Progress) -> str:
        if not progress.output_seen or (progress.phase and not progress.progress_seen):
            return "starting"
        if self.saving() is not None:
            return "saving"
        if not progress.progress_seen:
            return "compiling"
        return "running"

    # -- status.json ------------------------------------------------------------------------
    def write(self, state: str, progress: Progress, *, force: bool = False, **extra: Any) -> dict[str, Any]:
        fields = progress.fields()
        latest = checkpoints.latest_complete(self.spec.checkpoint_dir, checkpoints.RESUMABLE)
        servable = checkpoints.latest_complete(self.spec.checkpoint_dir, checkpoints.SERVABLE)
        if fields["max_steps"] is None:
            fields["max_steps"] = self.spec.max_steps
        if fields["step"] is None:
            fields["step"] = checkpoints.checkpoint_step(latest) if latest else 0
        if state not in LIVE_STATES:
            # A run that ended has no rate and no ETA; a phase bar is history.
            fields.update(it_s=None, eta_s=None, phase=None)
        saving = self.saving() if state == "saving" else None
        history = self.history(latest, progress)
        nonfinite = progress.nonfinite or history["nonfinite"]
        data: dict[str, Any] = {
            "recipe": self.spec.recipe,
            "state": state,
            **fields,
            "saving_checkpoint": str(saving) if saving else None,
            "nonfinite": nonfinite,
            "last_checkpoint": str(latest) if latest else None,
            "last_checkpoint_step": checkpoints.checkpoint_step(latest) if latest else None,
            "last_servable_checkpoint": str(servable) if servable else None,
            "disk_free_bytes": self.disk_free(),
            "max_retries": self.spec.max_retries,
            "node_rank": self.spec.node_rank,
            "nnodes": self.spec.nnodes,
            "supervisor_pid": os.getpid(),
            "output_dir": self.spec.output_dir,
            "log": str(self.files.log),
            "loss_plot": str(self.files.plot) if self.files.plot.exists() else None,
            "started_at": self.started_at,
            "groot_ops_commit": self.spec.groot_ops_commit,
            "groot_ops_dirty": self.spec.groot_ops_dirty,
            **extra,
        }
        now = time.time()
        # The plot first: whoever reads a final status.json finds the plot it names.
        self._maybe_plot(history, force=force, now=now)
        if self.files.plot.exists():
            data["loss_plot"] = str(self.files.plot)
        comparable = {k: v for k, v in data.items() if k != "disk_free_bytes"}
        if force or comparable != self.last_status or now - self.last_write >= STATUS_EVERY_S:
            data["updated_at"] = now
            write_json(self.files.status, data)
            self.last_status, self.last_write = comparable, now
        return data

    def history(self, latest: Path | None, progress: Progress) -> dict[str, Any]:
        """run_history, recomputed only when a checkpoint, a live point or the attempts record changed."""
        try:
            attempts_mtime = self.attempts.path.stat().st_mtime_ns
        except OSError:
            attempts_mtime = None
        key = (str(latest), len(progress.points), progress.nonfinite is not None, attempts_mtime)
        if key != self._history_key:
            self._history = run_history(self.spec.checkpoint_dir, self._attempts_with(progress))
            self._history_key = key
        return self._history

    def _attempts_with(self, progress: Progress) -> list[dict[str, Any]]:
        """The attempts record with the current attempt's live points (not yet written to it)."""
        records = self.attempts.load()
        if records and records[-1].get("ended_at") is None:
            records[-1] = {**records[-1], "points": list(progress.points)}
        return records

    def _maybe_plot(self, history: dict[str, Any], *, force: bool, now: float) -> None:
        key = (
            len(history["points"]),
            len(history["unsaved"]),
            len(history["failures"]),
            len(history["resumes"]),
            history["nonfinite"] is not None,
        )
        if key == self.plotted or (not force and now - self.last_plot < PLOT_EVERY_S):
            return
        try:
            if write_loss_plot(history, self.files.plot, title=f"{self.spec.recipe} loss"):
                self.plotted = key
        except Exception as exc:  # a plotting problem must never stop training
            self.files.supervisor_log.open("a").write(f"loss plot failed: {exc}\n")
        self.last_plot = now


def checkpoint_nonfinite(spec: TrainSpec) -> dict[str, Any] | None:
    """A NaN/inf entry in the newest checkpoint's log_history (the supervisor may have missed the line)."""
    from groot_ops.train.history import checkpoint_history

    return first_nonfinite(checkpoint_history(spec.checkpoint_dir)[1])
