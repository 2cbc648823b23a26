"""The detached supervisor of one run: ``python -m groot_ops.train.supervise RUN_DIR``.

It owns torchrun as a child in its own process group, writes every byte of output to
``train.log``, keeps ``status.json`` current, records the real exit code (no ``| tee`` that hides
crashes), classifies failures, retries disk-full and rendezvous timeouts a bounded number of
times, and calls the disk watchdog before each save.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from groot_ops.atomic import write_json, write_text
from groot_ops.train import checkpoints, runfiles
from groot_ops.train.classify import Failure, classify
from groot_ops.train.command import child_env
from groot_ops.train.logparse import LogParser
from groot_ops.train.plot import write_loss_plot
from groot_ops.train.runfiles import RunFiles
from groot_ops.train.spec import TrainSpec, load_spec

POLL_S = 0.5
STATUS_EVERY_S = 10.0
PLOT_EVERY_S = 30.0
TERM_GRACE_S = 60.0
TAIL_BYTES = 64 * 1024
# Look this many seconds ahead of the next save when deciding to ask the disk watchdog.
WATCH_AHEAD_S = 30.0


class Supervisor:
    def __init__(self, run_dir: Path) -> None:
        spec_data = json.loads((run_dir / "spec.json").read_text(encoding="utf-8"))
        self.spec: TrainSpec = load_spec(spec_data)
        self.files = RunFiles(self.spec.runs_root, self.spec.recipe)
        self.argv: list[str] = json.loads(self.files.cmdline.read_text(encoding="utf-8"))["argv"]
        self.secrets = self._take_secrets()
        self.parser = LogParser()
        self.tail: collections.deque[bytes] = collections.deque()
        self.tail_len = 0
        self.lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None
        self.stop_requested = False
        self.disk_stop: dict[str, Any] | None = None
        self.watched_save: int | None = None
        # The last save reported as unguarded: the poll loop comes by many times before the next check.
        self.noted_unguarded: int | None = None
        self.quarantined: list[dict[str, str]] = []
        self.attempt = 0
        self.last_failure: dict[str, Any] | None = None
        self.started_at = time.time()
        self.last_status: dict[str, Any] = {}
        self.last_write = 0.0
        self.last_plot = 0.0
        self.plotted_points = 0
        self.log_handle = self.files.log.open("ab")

    def _take_secrets(self) -> dict[str, str]:
        path = self.files.secrets
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        finally:
            # Read once, then gone: the secret lives only in this process and torchrun's env.
            path.unlink(missing_ok=True)
        return {str(k): str(v) for k, v in data.items()}

    # -- output ---------------------------------------------------------------------------
    def note(self, message: str) -> None:
        self._record(f"[groot-ops supervisor {time.strftime('%H:%M:%S')}] {message}\n".encode())

    def _record(self, chunk: bytes) -> None:
        with self.lock:
            self.log_handle.write(chunk)
            self.log_handle.flush()
            self.tail.append(chunk)
            self.tail_len += len(chunk)
            while self.tail_len > TAIL_BYTES and len(self.tail) > 1:
                self.tail_len -= len(self.tail.popleft())
            self.parser.feed(chunk.decode("utf-8", errors="replace"))

    def _pump(self, fd: int) -> None:
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            self._record(chunk)

    def tail_text(self) -> str:
        with self.lock:
            return b"".join(self.tail).decode("utf-8", errors="replace")

    # -- status ---------------------------------------------------------------------------
    def _disk_free(self) -> int | None:
        for candidate in (
            self.spec.checkpoint_dir,
            Path(self.spec.output_dir),
            Path(self.spec.output_dir).parent,
        ):
            if candidate.exists():
                return shutil.disk_usage(candidate).free
        return None

    def _live_state(self) -> str:
        prog = self.parser.progress
        if not prog.output_seen:
            return "starting"
        if prog.saving_checkpoint and not checkpoints.is_complete(prog.saving_checkpoint):
            return "saving"
        if not prog.progress_seen:
            return "compiling"
        return "running"

    def write_status(self, state: str, *, force: bool = False, **extra: Any) -> None:
        with self.lock:
            fields = self.parser.progress.fields()
            history_len = len(self.parser.progress.history)
        latest = checkpoints.latest_complete(self.spec.checkpoint_dir)
        if fields["max_steps"] is None:
            fields["max_steps"] = self.spec.max_steps
        if fields["step"] is None:
            fields["step"] = checkpoints.checkpoint_step(latest) if latest else 0
        data: dict[str, Any] = {
            "recipe": self.spec.recipe,
            "state": state,
            **fields,
            "last_checkpoint": str(latest) if latest else None,
            "last_checkpoint_step": checkpoints.checkpoint_step(latest) if latest else None,
            "disk_free_bytes": self._disk_free(),
            "attempt": self.attempt,
            "max_retries": self.spec.max_retries,
            "node_rank": self.spec.node_rank,
            "nnodes": self.spec.nnodes,
            "supervisor_pid": os.getpid(),
            "torchrun_pid": self.proc.pid if self.proc else None,
            "output_dir": self.spec.output_dir,
            "log": str(self.files.log),
            "loss_plot": str(self.files.plot) if self.files.plot.exists() else None,
            "quarantined": self.quarantined,
            "last_failure": self.last_failure,
            "started_at": self.started_at,
            "groot_ops_commit": self.spec.groot_ops_commit,
            "groot_ops_dirty": self.spec.groot_ops_dirty,
            **extra,
        }
        now = time.time()
        comparable = {k: v for k, v in data.items() if k != "disk_free_bytes"}
        if force or comparable != self.last_status or now - self.last_write >= STATUS_EVERY_S:
            data["updated_at"] = now
            write_json(self.files.status, data)
            self.last_status, self.last_write = comparable, now
        if (force and history_len) or (
            history_len > self.plotted_points and now - self.last_plot >= PLOT_EVERY_S
        ):
            self.plot()

    def plot(self) -> None:
        with self.lock:
            history = list(self.parser.progress.history)
        try:
            if write_loss_plot(history, self.files.plot, title=f"{self.spec.recipe} loss"):
                self.plotted_points = len(history)
        except Exception as exc:  # a plotting problem must never stop training
            self.note(f"loss plot failed: {exc}")
        self.last_plot = time.time()

    # -- disk watchdog --------------------------------------------------------------------
    def _next_checkpoint_bytes(self) -> int:
        latest = checkpoints.latest_complete(self.spec.checkpoint_dir)
        return checkpoints.directory_bytes(latest) if latest else self.spec.checkpoint_bytes

    def maybe_watch_disk(self) -> None:
        """Before each save interval ends, make sure the next checkpoint fits; stop cleanly if not."""
        if self.spec.disk_guard is None or self.disk_stop is not None:
            return
        with self.lock:
            prog = self.parser.progress
            step, it_s, saving = prog.step, prog.it_s, prog.saving_checkpoint
        if step is None or not prog.progress_seen:
            return
        if saving and not checkpoints.is_complete(saving):
            return  # the previous save is in flight: its size is the estimate for the next one
        save_steps = self.spec.save_steps
        next_save = (step // save_steps + 1) * save_steps
        if next_save > self.spec.max_steps or self.watched_save == next_save:
            return
        if self.watched_save is not None and next_save - save_steps > self.watched_save:
            # The trainer saved faster than the watchdog could run (intervals shorter than its settle
            # time): say so instead of pretending that save was guarded.
            missed = next_save - save_steps
            if self.noted_unguarded != missed:
                self.noted_unguarded = missed
                self.note(f"checkpoint-{missed} was saved before the disk watchdog could check it")
        ahead = max(1, save_steps // 10, int((it_s or 0.0) * WATCH_AHEAD_S))
        if next_save - step > ahead:
            return
        self.watched_save = next_save
        try:
            from groot_ops.disk import watchdog
        except ImportError as exc:
            self.note(f"disk watchdog unavailable ({exc}); checkpoint-{next_save} is saved unguarded")
            return
        need = self._next_checkpoint_bytes()
        try:
            verdict = watchdog.ensure_fits(self.spec.disk_guard, next_checkpoint_bytes=need)
        except Exception as exc:
            self.note(f"disk watchdog failed before checkpoint-{next_save}: {exc}")
            return
        self.note(
            f"disk watchdog before checkpoint-{next_save} (needs {need} bytes): {verdict.get('status')}"
        )
        if verdict.get("status") == "insufficient":
            self.disk_stop = {"next_checkpoint": next_save, "need_bytes": need, "verdict": verdict}
            self.note("not enough disk for the next checkpoint even after cleanup: stopping the trainer")
            self.terminate()

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
        self.note(f"received signal {signum}: stopping the trainer")
        self.terminate()

    def run_attempt(self) -> int:
        moved = (
            checkpoints.quarantine_incomplete(self.spec.checkpoint_dir, self.spec.quarantine_path)
            if self.spec.node_rank == 0
            else []
        )
        for entry in moved:
            self.note(
                f"quarantined incomplete {entry['checkpoint']} -> {entry['quarantine']} "
                f"(missing {entry['missing']})"
            )
        self.quarantined += moved
        latest = checkpoints.latest_complete(self.spec.checkpoint_dir)
        self.note(
            f"attempt {self.attempt} of recipe {self.spec.recipe}: "
            + (f"resuming from {latest}" if latest else "starting from step 0")
        )
        self.note("command: " + " ".join(self.argv))
        self.parser.new_attempt()
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
        reader = threading.Thread(target=self._pump, args=(self.proc.stdout.fileno(),), daemon=True)
        reader.start()
        self.write_status("starting", force=True)
        while self.proc.poll() is None:
            time.sleep(POLL_S)
            self.maybe_watch_disk()
            self.write_status(self._live_state())
        reader.join(timeout=30)
        self.proc.stdout.close()
        with self.lock:
            self.parser.flush()
        code = self.proc.returncode
        write_text(self.files.exit_code, f"{code}\n")
        self.note(f"torchrun exited with code {code}")
        return code

    def retry_disk(self) -> None:
        if self.spec.disk_guard is None:
            return
        try:
            from groot_ops.disk import policy
        except ImportError as exc:
            self.note(f"disk guard unavailable ({exc}); retrying without cleanup")
            return
        try:
            report = policy.run_policy(self.spec.disk_guard, need_bytes=self._next_checkpoint_bytes())
            self.note(f"disk guard freed {report.get('freed_bytes')} bytes (ok={report.get('ok')})")
        except Exception as exc:
            self.note(f"disk guard failed: {exc}")

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGINT, self.on_signal)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        write_text(self.files.pid, f"{os.getpid()}\n")
        final_state, failure = "failed:unknown", None
        try:
            while True:
                code = self.run_attempt()
                failure = classify(code, self.tail_text())
                if self.stop_requested:
                    final_state = "stopped"
                    break
                if self.disk_stop is not None:
                    final_state = "failed:disk"
                    verdict = self.disk_stop["verdict"]
                    failure = Failure(
                        "disk",
                        f"stopped before checkpoint-{self.disk_stop['next_checkpoint']}: the disk guard "
                        f"could not free {self.disk_stop['need_bytes']} bytes "
                        f"({verdict.get('message', verdict)})",
                        "free disk space or lower save_total_limit, then re-run: training resumes",
                        False,
                        code,
                    )
                    break
                if failure is None:
                    final_state = "finished"
                    break
                self.last_failure = failure.to_dict()
                self.note(f"failure class {failure.cls}: {failure.message}")
                if failure.retryable and self.attempt < self.spec.max_retries:
                    if failure.cls == "disk":
                        self.retry_disk()
                    self.attempt += 1
                    self.write_status("starting", force=True)
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
            self.write_status(final_state, force=True, **extra)
            self.note(f"final state {final_state}")
            self.log_handle.close()
        return 0 if final_state == "finished" else 1


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m groot_ops.train.supervise RUN_DIR", file=sys.stderr)
        return 2
    return Supervisor(Path(args[0])).run()


if __name__ == "__main__":
    sys.exit(main())
