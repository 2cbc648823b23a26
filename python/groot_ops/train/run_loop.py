"""The detached run loop of one run: ``python -m groot_ops.train.run_loop RUN_DIR``.

It owns torchrun as a child in its own process group, attempt after attempt: quarantines what cannot be
resumed, launches, pumps the output (:mod:`~groot_ops.train.pump`), keeps ``status.json`` and the loss plot
current (:mod:`~groot_ops.train.status_writer`), asks the disk watchdog before each save
(:mod:`~groot_ops.train.save_guard`), stops a run whose loss went NaN/inf, records the real exit code,
classifies failures and retries disk-full and rendezvous timeouts a bounded number of times.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from groot_ops.atomic import write_text
from groot_ops.train import checkpoints, oomkill, runfiles
from groot_ops.train.classify import ADVICE, Failure, classify
from groot_ops.train.command import child_env
from groot_ops.train.history import Attempts
from groot_ops.train.logparse import LOGGING_STEPS, LogParser
from groot_ops.train.pump import OutputPump
from groot_ops.train.runfiles import RunFiles
from groot_ops.train.save_guard import SaveGuard
from groot_ops.train.spec import TrainSpec, load_spec
from groot_ops.train.status_writer import StatusWriter, checkpoint_nonfinite

POLL_S = 0.5
TERM_GRACE_S = 60.0


def take_secrets(path: Path) -> dict[str, str]:
    """Read once, then gone: the secret lives only in this process and torchrun's environment."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    finally:
        path.unlink(missing_ok=True)
    return {str(k): str(v) for k, v in data.items()}


class RunLoop:
    def __init__(self, run_dir: Path) -> None:
        # Secrets first: whatever fails below, the file is already gone.
        self.secrets = take_secrets(run_dir / RunFiles.SECRETS)
        spec_data = json.loads((run_dir / "spec.json").read_text(encoding="utf-8"))
        self.spec: TrainSpec = load_spec(spec_data)
        self.files = RunFiles(self.spec.runs_root, self.spec.recipe)
        self.argv: list[str] = json.loads(self.files.cmdline.read_text(encoding="utf-8"))["argv"]
        self.pump = OutputPump(self.files.log, LogParser(self.spec.max_steps))
        self.attempts = Attempts(self.files.attempts)
        self.status = StatusWriter(self.spec, self.files, self.attempts)
        self.guard = SaveGuard(self.spec, self.pump.note, self.terminate)
        self.proc: subprocess.Popen[bytes] | None = None
        self.stop_requested = False
        self.diverged: dict[str, Any] | None = None
        self.quarantined: list[dict[str, str]] = []
        self.attempt = 0
        self.record_index: int | None = None
        self.last_failure: dict[str, Any] | None = None
        self.seen_checkpoint: Path | None = None

    # -- process control ------------------------------------------------------------------
    def terminate(self) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        threading.Thread(target=self._kill_after_grace, args=(proc,), daemon=True).start()

    def _kill_after_grace(self, proc: subprocess.Popen[bytes]) -> None:
        try:
            proc.wait(timeout=TERM_GRACE_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

    def on_signal(self, signum: int, _frame: Any) -> None:
        self.stop_requested = True
        self.pump.note(f"received signal {signum}: stopping the trainer")
        self.terminate()

    # -- one attempt ----------------------------------------------------------------------
    def _status_extra(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "torchrun_pid": self.proc.pid if self.proc else None,
            "quarantined": self.quarantined,
            "last_failure": self.last_failure,
        }

    def _write_status(self, state: str, *, force: bool = False, **extra: Any) -> None:
        self.status.write(state, self.pump.progress(), force=force, **self._status_extra(), **extra)

    def _watch_divergence(self) -> None:
        """Stop at the first NaN/inf loss or grad_norm: later saves would rotate the good checkpoints away."""
        if self.diverged is not None:
            return
        found = self.pump.progress().nonfinite
        latest = checkpoints.latest_complete(self.spec.checkpoint_dir, checkpoints.RESUMABLE)
        if found is None and latest is not None and latest != self.seen_checkpoint:
            self.seen_checkpoint = latest
            found = checkpoint_nonfinite(self.spec)
        if found is None:
            return
        self.diverged = found
        self.pump.note(
            f"non-finite training metrics at step {found['step']} (loss {found.get('loss')}, grad_norm "
            f"{found.get('grad_norm')}): stopping the trainer"
        )
        self.terminate()

    def _quarantine_poisoned(self) -> None:
        """Checkpoints saved after the last clean log entry hold NaN weights: move them aside."""
        if self.diverged is None or self.spec.node_rank != 0 or self.diverged.get("step") is None:
            return
        clean_until = int(self.diverged["step"]) - LOGGING_STEPS
        poisoned = [
            c
            for c in checkpoints.list_checkpoints(self.spec.checkpoint_dir)
            if (checkpoints.checkpoint_step(c) or 0) > clean_until
        ]
        why = (
            f"saved after the last finite loss (step {clean_until}); "
            f"the loss was NaN/inf by step {self.diverged['step']}"
        )
        moved = checkpoints.quarantine(poisoned, self.spec.quarantine_path, reason=why)
        for entry in moved:
            self.pump.note(f"quarantined {entry['checkpoint']} -> {entry['quarantine']} ({why})")
        self.quarantined += moved

    def run_attempt(self) -> tuple[int, str | None]:
        """Launch torchrun once and wait for it; (exit code, OOM-kill evidence)."""
        moved = (
            checkpoints.quarantine_incomplete(self.spec.checkpoint_dir, self.spec.quarantine_path)
            if self.spec.node_rank == 0
            else []
        )
        for entry in moved:
            self.pump.note(
                f"quarantined incomplete {entry['checkpoint']} -> {entry['quarantine']} "
                f"(missing {entry['missing']})"
            )
        self.quarantined += moved
        latest = checkpoints.latest_complete(self.spec.checkpoint_dir, checkpoints.RESUMABLE)
        start_step = checkpoints.checkpoint_step(latest) if latest else 0
        self.seen_checkpoint = latest
        self.pump.note(
            f"attempt {self.attempt} of recipe {self.spec.recipe}: "
            + (f"resuming from {latest}" if latest else "starting from step 0")
        )
        self.pump.note("command: " + " ".join(self.argv))
        self.pump.new_attempt()
        self.status.attempt_start_step = start_step or 0
        self.record_index = self.attempts.begin(start_step=start_step or 0, started_at=time.time())
        before = oomkill.counters()
        self.proc = subprocess.Popen(
            self.argv,
            cwd=self.spec.isaac_groot_dir,
            env=child_env(self.spec, self.secrets),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        write_text(self.files.dir / "torchrun.pid", f"{self.proc.pid}\n")
        assert self.proc.stdout is not None
        self.pump.start(self.proc.stdout.fileno())
        self._write_status("starting", force=True)
        while self.proc.poll() is None:
            time.sleep(POLL_S)
            progress = self.pump.progress()
            self.guard.check(progress, self.status.saving())
            self._watch_divergence()
            self._write_status(self.status.live_state(progress))
        self.pump.drain()
        self.proc.stdout.close()
        code = self.proc.returncode
        evidence = oomkill.evidence(before, oomkill.counters())
        write_text(self.files.exit_code, f"{code}\n")
        self.pump.note(f"torchrun exited with code {code}" + (f" ({evidence})" if evidence else ""))
        self._watch_divergence()
        return code, evidence

    def _end_record(self, code: int | None, failure: Failure | None) -> None:
        if self.record_index is None:
            return
        progress = self.pump.progress()
        self.attempts.update(
            self.record_index,
            ended_at=time.time(),
            exit_code=code,
            last_step=progress.step,
            points=progress.points,
            failure={"class": failure.cls, "message": failure.message} if failure else None,
        )

    def _failure(self, code: int, evidence: str | None) -> Failure | None:
        if self.diverged is not None:
            bad = self.diverged
            return Failure(
                "diverged",
                f"non-finite loss or grad_norm at step {bad['step']}: loss {bad.get('loss')}, grad_norm "
                f"{bad.get('grad_norm')}",
                ADVICE["diverged"],
                False,
                code,
            )
        if self.guard.stop is not None:
            stop, verdict = self.guard.stop, self.guard.stop["verdict"]
            return Failure(
                "disk",
                # The verdict carries the real numbers (need with margin, free after reclaiming).
                f"stopped before checkpoint-{stop['next_checkpoint']}: not enough disk for it "
                f"({verdict.get('message', verdict)})",
                "free disk space or lower save_total_limit, then re-run: training resumes",
                False,
                code,
            )
        return classify(code, self.pump.tail_text(), oom_kills=evidence)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGINT, self.on_signal)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        write_text(self.files.pid, f"{os.getpid()}\n")
        final_state, failure = "failed:unknown", None
        try:
            while True:
                code, evidence = self.run_attempt()
                failure = None if self.stop_requested else self._failure(code, evidence)
                self._end_record(code, failure)
                if self.stop_requested:
                    final_state = "stopped"
                    break
                if failure is None:
                    final_state = "finished"
                    break
                self.last_failure = failure.to_dict()
                self.pump.note(f"failure class {failure.cls}: {failure.message}")
                if failure.cls == "diverged":
                    self._quarantine_poisoned()
                if failure.retryable and self.attempt < self.spec.max_retries:
                    if failure.cls == "disk":
                        self.guard.retry_cleanup()
                    self.attempt += 1
                    self._write_status("starting", force=True)
                    time.sleep(self.spec.retry_backoff_s * self.attempt)
                    if self.stop_requested:
                        final_state = "stopped"
                        break
                    continue
                final_state = f"failed:{failure.cls}"
                break
        except Exception as exc:
            failure = Failure("supervisor", f"{type(exc).__name__}: {exc}", "see supervisor.log", False, None)
            final_state = "failed:supervisor"
            raise
        finally:
            extra: dict[str, Any] = {"finished_at": time.time()}
            if failure is not None and final_state != "finished":
                extra["failure"] = failure.to_dict()
            if self.proc is not None:
                extra["exit_code"] = self.proc.returncode
            # Lock first: whoever sees the final state may launch the next run at once.
            runfiles.release_lock(self.spec.runs_root, self.spec.recipe, os.getpid())
            self._write_status(final_state, force=True, **extra)
            self.pump.note(f"final state {final_state}")
            self.pump.close()
        return 0 if final_state == "finished" else 1


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m groot_ops.train.run_loop RUN_DIR", file=sys.stderr)
        return 2
    run_dir = Path(args[0])
    try:
        loop = RunLoop(run_dir)
    finally:
        # Whatever happened while starting up, the secrets file never outlives this process's start.
        (run_dir / RunFiles.SECRETS).unlink(missing_ok=True)
    return loop.run()


if __name__ == "__main__":
    sys.exit(main())
