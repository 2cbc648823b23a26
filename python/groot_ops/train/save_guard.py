"""Before each save, ask the disk watchdog whether it fits; stop the trainer cleanly between saves if not.

HF Trainer saves at every multiple of ``save_steps`` and at ``max_steps`` (``DefaultFlowCallback``), and
after the last step ``trainer.save_model()`` writes the weights once more to the ``output_dir`` root. So the
bytes the next save needs are the checkpoint's (learned from the newest one on disk, allocated blocks with
each inode once, so a hardlinked export adds nothing; before the first one: the configured size, the one
preflight budgets with), plus the weights again when the next save is the last.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from groot_ops.disk.usage import allocated_bytes
from groot_ops.train import checkpoints
from groot_ops.train.logparse import Progress
from groot_ops.train.spec import TrainSpec

# Look this many seconds ahead of the next save when deciding to ask the disk watchdog.
WATCH_AHEAD_S = 30.0
# The inference-only share of a checkpoint (groot-n16-contract.md section 6: ~9.2 of ~22 GB).
WEIGHTS_SHARE = 9.2 / 22


def next_save(step: int, save_steps: int, max_steps: int) -> int | None:
    """The step of the next save after ``step``: a multiple of save_steps, or max_steps itself."""
    if step >= max_steps:
        return None
    return min((step // save_steps + 1) * save_steps, max_steps)


class SaveGuard:
    def __init__(self, spec: TrainSpec, note: Callable[[str], None], terminate: Callable[[], None]) -> None:
        self.spec = spec
        self.note = note
        self.terminate = terminate
        self.watched: int | None = None
        # The last save reported as unguarded: the poll loop comes by many times before the next check.
        self.noted_unguarded: int | None = None
        self.stop: dict[str, Any] | None = None

    def need_bytes(self, upcoming: int) -> tuple[int, str]:
        """Bytes the save at ``upcoming`` writes, and how they were estimated."""
        latest = checkpoints.latest_complete(self.spec.checkpoint_dir, checkpoints.RESUMABLE)
        learned = None
        if latest is not None:
            try:
                from groot_ops.disk.checkpoints import learned_checkpoint_bytes

                learned = learned_checkpoint_bytes(self.spec.checkpoint_dir)
            except ImportError:
                learned = allocated_bytes([latest])
        size = learned or self.spec.checkpoint_bytes
        how = f"checkpoint {size}" + (" (learned)" if learned else " (configured)")
        if upcoming == self.spec.max_steps:
            weights = (
                checkpoints.weights_bytes(latest)
                if latest
                else int(self.spec.checkpoint_bytes * WEIGHTS_SHARE)
            )
            size += weights
            how += f" + final weights {weights}"
        return size, how

    def check(self, progress: Progress, saving: Path | None) -> None:
        """Called from the poll loop: ask the watchdog once per save interval, shortly before the save."""
        if self.spec.disk_guard is None or self.stop is not None:
            return
        step, it_s = progress.step, progress.it_s
        if step is None or not progress.progress_seen or saving is not None:
            return  # a save in flight: its size is the estimate for the next one
        upcoming = next_save(step, self.spec.save_steps, self.spec.max_steps)
        if upcoming is None or self.watched == upcoming:
            return
        previous = (upcoming - 1) // self.spec.save_steps * self.spec.save_steps
        # The trainer saved faster than the watchdog could run (intervals shorter than its settle time):
        # say so, once, instead of pretending that save was guarded.
        if self.watched is not None and previous > self.watched and self.noted_unguarded != previous:
            self.noted_unguarded = previous
            self.note(f"checkpoint-{previous} was saved before the disk watchdog could check it")
        ahead = max(1, self.spec.save_steps // 10, int((it_s or 0.0) * WATCH_AHEAD_S))
        if upcoming - step > ahead:
            return
        self.watched = upcoming
        try:
            from groot_ops.disk import watchdog
        except ImportError as exc:
            self.note(f"disk watchdog unavailable ({exc}); checkpoint-{upcoming} is saved unguarded")
            return
        need, how = self.need_bytes(upcoming)
        try:
            verdict = watchdog.ensure_fits(self.spec.disk_guard, next_checkpoint_bytes=need)
        except Exception as exc:
            self.note(f"disk watchdog failed before checkpoint-{upcoming}: {exc}")
            return
        self.note(
            f"disk watchdog before checkpoint-{upcoming} (needs {need} bytes: {how}): {verdict.get('status')}"
        )
        if verdict.get("status") == "insufficient":
            self.stop = {"next_checkpoint": upcoming, "need_bytes": need, "verdict": verdict}
            self.note("not enough disk for the next checkpoint even after cleanup: stopping the trainer")
            self.terminate()

    def retry_cleanup(self) -> None:
        """After a disk-full failure, run the disk guard's policy once before the relaunch."""
        if self.spec.disk_guard is None:
            return
        try:
            from groot_ops.disk import policy
        except ImportError as exc:
            self.note(f"disk guard unavailable ({exc}); retrying without cleanup")
            return
        latest = checkpoints.latest_complete(self.spec.checkpoint_dir, checkpoints.RESUMABLE)
        need = allocated_bytes([latest]) if latest else self.spec.checkpoint_bytes
        try:
            report = policy.run_policy(self.spec.disk_guard, need_bytes=need)
            self.note(f"disk guard freed {report.get('freed_bytes')} bytes (ok={report.get('ok')})")
        except Exception as exc:
            self.note(f"disk guard failed: {exc}")
