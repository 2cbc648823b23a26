"""Human output for runs: live progress on a terminal, plain lines elsewhere.

On a TTY (and without NO_COLOR) one status line is redrawn in place; otherwise every change is
a plain line with no control characters, so logs and CI output stay readable.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from typing import IO, Any

from groot_ops.runner.events import EventRecorder, TrainingProgress, training_progress


def use_color(stream: IO[str]) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def human_duration(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return "?"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def progress_bar(progress: TrainingProgress, width: int = 24) -> str:
    step = progress.step or 0
    total = progress.max_steps or 0
    frac = min(1.0, step / total) if total else 0.0
    filled = round(frac * width)
    bar = "#" * filled + "." * (width - filled)
    parts = [f"[{bar}] {step}/{total or '?'}"]
    if progress.loss is not None:
        parts.append(f"loss {progress.loss:.4f}")
    if progress.it_s is not None:
        parts.append(f"{progress.it_s:.2f} it/s")
    if progress.eta_s is not None:
        parts.append(f"ETA {human_duration(progress.eta_s)}")
    if progress.state:
        parts.append(progress.state)
    return " ".join(parts)


class LiveRenderer:
    """Callback for :class:`EventRecorder` printing plays, tasks, failures and training progress."""

    def __init__(self, stream: IO[str] | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stdout
        self.color = use_color(self.stream)
        self.quiet = quiet
        self.started = time.monotonic()
        self._inline = False
        # Without a TTY a task is printed when it first does something (skipped tasks stay silent).
        self._pending_task: str | None = None
        # On a TTY: what each host of the current play is doing, redrawn in place.
        self._host_tasks: dict[str, str] = {}

    def _clear_inline(self) -> None:
        if self._inline:
            self.stream.write("\r\x1b[2K")
            self._inline = False

    def _emit(self, text: str, style: str = "") -> None:
        if self.quiet:
            return
        self._clear_inline()
        if self.color and style:
            codes = {"bold": "1", "red": "31", "yellow": "33", "green": "32", "dim": "2"}
            text = f"\x1b[{codes[style]}m{text}\x1b[0m"
        self.stream.write(text + "\n")
        self.stream.flush()

    def _inline_status(self, text: str) -> None:
        if self.quiet or not self.color:
            return
        width = max(40, shutil.get_terminal_size((120, 24)).columns - 1)
        self.stream.write("\r\x1b[2K" + text[:width])
        self.stream.flush()
        self._inline = True

    def _hosts_line(self, elapsed: str) -> str:
        return f"[{elapsed}] " + " | ".join(f"{name}: {doing}" for name, doing in self._host_tasks.items())

    def __call__(self, recorder: EventRecorder, event: dict[str, Any]) -> None:
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        elapsed = human_duration(time.monotonic() - self.started)
        host = data.get("host", "")
        raw_res = data.get("res")
        res: dict[str, Any] = raw_res if isinstance(raw_res, dict) else {}
        if kind == "playbook_on_play_start":
            self._pending_task = None
            self._host_tasks = {}
            self._emit(f"PLAY {data.get('play', '')}", "bold")
            return
        if kind in ("runner_on_start", "runner_retry") and self.color and host:
            # A poll of a training run shows its bar in place of the task name, redrawn at every poll.
            polled = training_progress(host, res) if kind == "runner_retry" else None
            self._host_tasks[host] = progress_bar(polled, width=12) if polled else str(data.get("task", ""))
            self._inline_status(self._hosts_line(elapsed))
            return
        if kind == "playbook_on_task_start":
            if self.color:
                self._inline_status(f"[{elapsed}] TASK {data.get('task', '')}")
            else:
                self._pending_task = f"[{elapsed}] TASK {data.get('task', '')}"
            return
        if kind not in ("runner_on_ok", "runner_on_failed", "runner_on_unreachable", "runner_retry"):
            return
        if self._pending_task is not None:
            pending, self._pending_task = self._pending_task, None
            self._emit(pending)
        if kind in ("runner_on_failed", "runner_on_unreachable"):
            failure = recorder.failures[-1] if recorder.failures else None
            if failure is not None and not data.get("ignore_errors"):
                self._emit(failure.line(), "red")
        elif training_progress(host, res) is not None and host in recorder.training:
            observed = f" (training, {elapsed} observed)" if kind == "runner_retry" else ""
            self._emit(f"  {host}: {progress_bar(recorder.training[host])}{observed}")
        elif kind == "runner_on_ok" and res.get("changed"):
            self._emit(f"  changed: {host} | {data.get('task', '')}", "yellow")

    def finish(self) -> None:
        self._clear_inline()


def summary_lines(recorder: EventRecorder, rc: int) -> list[str]:
    lines = ["", "Summary per host:"]
    for host, counts in recorder.host_summary().items():
        lines.append(
            f"  {host:<28} ok={counts['ok']:<4} changed={counts['changed']:<4} "
            f"failed={counts['failed']:<3} unreachable={counts['unreachable']:<3} skipped={counts['skipped']}"
        )
    if recorder.failures:
        lines.append("Failures:")
        lines.extend(f"  {failure.line()}" for failure in recorder.failures)
    lines.append(f"Exit code: {rc}")
    return lines
