"""Human output for runs: live progress on a terminal, plain lines elsewhere.

On a TTY (and without NO_COLOR) one status line is redrawn in place, its clock ticking every second
while a task runs; otherwise every task is a plain line when it starts, and every change, warning
and failure a line of its own, with no control characters, so that logs and CI output stay readable.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Sequence
from typing import IO, Any

from groot_ops.runner.events import OUTPUT_EVENTS, EventRecorder, TrainingProgress, training_progress


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
    if progress.it_s is not None and not progress.failed:
        parts.append(f"{progress.it_s:.2f} it/s")
    # A failed run has no ETA: it is not going anywhere until someone acts.
    if progress.eta_s is not None and not progress.failed and progress.state != "finished":
        parts.append(f"ETA {human_duration(progress.eta_s)}")
    if progress.state:
        parts.append(progress.state)
    return " ".join(parts)


def failure_lines(progress: TrainingProgress) -> list[str]:
    """What a failed run's status.json says went wrong and what to do (train's classifier)."""
    failure = progress.failure or {}
    if not progress.failed and not failure:
        return []
    message = str(failure.get("message") or "no message recorded").strip()
    lines = [f"Failure: {failure.get('class') or (progress.state or '').partition(':')[2] or '?'}: "]
    first, *rest = message.splitlines() or [""]
    lines[0] += first
    lines += [f"  {line}" for line in rest]
    if failure.get("advice"):
        lines.append(f"  what to do: {failure['advice']}")
    return lines


# ansible-core's warnings while it tries each inventory plugin on a source.
_INVENTORY_PARSE = re.compile(
    r"Failed to parse inventory with|Unable to parse .* as an inventory source|No inventory was parsed"
)


def _is_progress_poll(data: dict[str, Any], res: dict[str, Any]) -> bool:
    """A poll of a long job's progress file (module ``groot_progress``): its result carries new lines."""
    action = str(data.get("resolved_action") or data.get("task_action") or "")
    return action.rsplit(".", 1)[-1] == "groot_progress" and isinstance(res.get("lines"), list)


class LiveRenderer:
    """Callback for :class:`EventRecorder` printing plays, tasks, failures and training progress."""

    def __init__(self, stream: IO[str] | None = None, quiet: bool = False, tick_s: float = 1.0) -> None:
        self.stream = stream or sys.stdout
        self.color = use_color(self.stream)
        self.quiet = quiet
        self.started = time.monotonic()
        self._inline = False
        # On a TTY: what each host of the current play is doing, redrawn in place.
        self._host_tasks: dict[str, str] = {}
        self._status_text = ""
        self._held: list[str] = []
        self._last_was_held = False
        # Events come from ansible-runner's thread, the clock from ours: one writer at a time.
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        if self.color and not quiet and tick_s > 0:
            self._ticker = threading.Thread(target=self._tick, args=(tick_s,), daemon=True)
            self._ticker.start()

    def _elapsed(self) -> str:
        return human_duration(time.monotonic() - self.started)

    def _tick(self, every: float) -> None:
        while not self._stop.wait(every):
            with self._lock:
                if self._status_text:
                    self._inline_status(self._status_text)

    def say(self, text: str) -> None:
        """A line of the caller's own (plan's header) in the same stream, before or between events."""
        with self._lock:
            self._emit(text, "bold")
            self._set_status(text)

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
        self.stream.write("\r\x1b[2K" + f"[{self._elapsed()}] {text}"[:width])
        self.stream.flush()
        self._inline = True

    def _set_status(self, text: str) -> None:
        self._status_text = text
        self._inline_status(text)

    def _hosts_line(self) -> str:
        return " | ".join(f"{name}: {doing}" for name, doing in self._host_tasks.items())

    def __call__(self, recorder: EventRecorder, event: dict[str, Any]) -> None:
        with self._lock:
            self._render(recorder, event)

    def _render(self, recorder: EventRecorder, event: dict[str, Any]) -> None:
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        elapsed = self._elapsed()
        host = data.get("host", "")
        raw_res = data.get("res")
        res: dict[str, Any] = raw_res if isinstance(raw_res, dict) else {}
        if kind in OUTPUT_EVENTS:
            self._render_output(recorder, str(event.get("stdout") or ""))
            return
        if kind == "playbook_on_play_start":
            self._flush_held()
            self._host_tasks = {}
            self._emit(f"PLAY {data.get('play', '')}", "bold")
            self._set_status(f"PLAY {data.get('play', '')}")
            return
        if kind in ("runner_retry", "runner_on_ok") and _is_progress_poll(data, res):
            # A long job's own lines (a Hub download waiting out a rate limit): one line each, as it reports.
            for line in res.get("lines") or []:
                self._emit(f"  {host}: {' '.join(str(line).split())}")
            if kind == "runner_retry":
                return
        if kind in ("runner_on_start", "runner_retry") and self.color and host:
            # A poll of a training run shows its bar in place of the task name, redrawn at every poll.
            polled = training_progress(host, res) if kind == "runner_retry" else None
            self._host_tasks[host] = progress_bar(polled, width=12) if polled else str(data.get("task", ""))
            self._set_status(self._hosts_line())
            return
        if kind == "playbook_on_task_start":
            # Each task as it starts: a long one is visible while it runs, not only once it ends.
            if self.color:
                self._set_status(f"TASK {data.get('task', '')}")
            else:
                self._emit(f"[{elapsed}] TASK {data.get('task', '')}")
            return
        if kind not in ("runner_on_ok", "runner_on_failed", "runner_on_unreachable", "runner_retry"):
            return
        for warning in res.get("warnings") or []:
            self._emit(
                f"  warning: {host} | {data.get('task', '')}: {' '.join(str(warning).split())}", "yellow"
            )
        if kind in ("runner_on_failed", "runner_on_unreachable"):
            failure = recorder.failures[-1] if recorder.failures else None
            if failure is not None and not data.get("ignore_errors"):
                self._emit(failure.line(), "red")
        elif training_progress(host, res) is not None and host in recorder.training:
            observed = f" (training, {elapsed} observed)" if kind == "runner_retry" else ""
            self._emit(f"  {host}: {progress_bar(recorder.training[host])}{observed}")
        elif kind == "runner_on_ok" and res.get("changed"):
            self._emit(f"  changed: {host} | {data.get('task', '')}", "yellow")
        if self.color and self._host_tasks:
            self._set_status(self._hosts_line())

    def _render_output(self, recorder: EventRecorder, text: str) -> None:
        """ansible-playbook's own errors and warnings (the recorder has already parsed them).

        Warnings about an inventory source that would not parse are held back: when an error follows
        (a vault that does not decrypt makes every inventory plugin fail in turn) they only repeat it;
        when the run goes on anyway they are shown as the first play starts.
        """
        from groot_ops.runner.events import _ANSI, _ERROR_START, _WARNING_START

        for raw in text.splitlines():
            line = recorder.scrub(_ANSI.sub("", raw).rstrip())
            if _ERROR_START.match(line):
                self._held.clear()
                self._last_was_held = False
                self._emit(f"ERROR: {_ERROR_START.sub('', line)}", "red")
            elif _WARNING_START.match(line):
                warning = f"warning: {_WARNING_START.sub('', line)}"
                self._last_was_held = _INVENTORY_PARSE.search(line) is not None
                if self._last_was_held:
                    self._held.append(warning)
                else:
                    self._emit(warning, "yellow")
            elif line.startswith("Origin: "):
                if self._last_was_held:
                    self._held.append(f"  {line}")
                else:
                    self._emit(f"  {line}", "red")

    def _flush_held(self) -> None:
        held, self._held = self._held, []
        for line in held:
            self._emit(line, "yellow")

    def finish(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
        with self._lock:
            self._flush_held()
            self._clear_inline()


def summary_lines(
    recorder: EventRecorder, rc: int, *, vault_source: str | None = None, vault_files: Sequence[str] = ()
) -> list[str]:
    from groot_ops.runner.explain import advice

    lines = ["", "Summary per host:"]
    for host, counts in recorder.host_summary().items():
        lines.append(
            f"  {host:<28} ok={counts['ok']:<4} changed={counts['changed']:<4} "
            f"failed={counts['failed']:<3} unreachable={counts['unreachable']:<3} skipped={counts['skipped']}"
        )
    if not recorder.host_summary():
        lines.append("  no host was reached")
    if recorder.errors:
        lines.append("Errors of ansible-playbook itself:")
        for error in recorder.errors:
            first, *rest = error.splitlines()
            lines.append(f"  {first}")
            lines.extend(f"    {line}" for line in rest)
            hint = advice(error, vault_source=vault_source, vault_files=vault_files)
            if hint:
                lines.append(f"  what to do: {hint}")
    if recorder.failures:
        lines.append("Failures:")
        lines.extend("  " + failure.line().replace("\n", "\n  ") for failure in recorder.failures)
    if rc != 0 and not recorder.errors and not recorder.failures:
        lines.append(
            "No task failed and ansible-playbook gave no reason: see the raw log in the run directory."
        )
    lines.append(f"Exit code: {rc}")
    return lines
