"""Record ansible-runner events as JSON lines and keep the state people want to see.

The handler returns True for every event: ansible-runner drops events (and the final stats)
when an event handler returns anything falsy.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

FAILED_EVENTS = {"runner_on_failed", "runner_on_unreachable"}
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# How ansible-playbook starts an error of its own (ansible-core 2.19 and earlier) and a warning.
_ERROR_START = re.compile(r"^(\[ERROR\]:|ERROR!)\s*")
_WARNING_START = re.compile(r"^\[WARNING\]:\s*")
# ansible-playbook's own lines: `verbose` before the first play, `error`/`warning` once plays run.
OUTPUT_EVENTS = {"verbose", "error", "warning"}
RESULT_EVENTS = {"runner_on_ok", "runner_on_failed", "runner_on_unreachable", "runner_on_skipped"}


@dataclass
class TaskFailure:
    host: str
    task: str
    play: str
    message: str
    unreachable: bool = False

    def line(self) -> str:
        """One line naming host, play and task; a message of several lines goes on, indented, below it."""
        kind = "UNREACHABLE" if self.unreachable else "FAILED"
        first, *rest = self.message.splitlines() or [""]
        return "\n".join(
            [f"{kind} {self.host} | {self.play} | {self.task}: {first}", *(f"    {r}" for r in rest)]
        )


@dataclass
class TrainingProgress:
    host: str
    recipe: str | None
    state: str | None
    step: int | None
    max_steps: int | None
    loss: float | None
    it_s: float | None
    eta_s: float | None
    # status.json's `failure` of a failed run: {"class", "message", "advice", ...}.
    failure: dict[str, Any] | None = None
    loss_plot: str | None = None
    # The first NaN/inf entry and a finished run's data drift note ("trained on older data").
    nonfinite: dict[str, Any] | None = None
    note: str | None = None

    @property
    def failed(self) -> bool:
        return bool(self.state and self.state.startswith("failed"))


# Ansible's own words for "see the output": the real cause is elsewhere in the result.
_GENERIC_MESSAGES = {"One or more items failed", "non-zero return code", "MODULE FAILURE", ""}


def _item_label(item: dict[str, Any]) -> str:
    label = item.get("_ansible_item_label", item.get("item"))
    if isinstance(label, dict):
        label = label.get("name", label)
    return str(label)


def _result_message(res: dict[str, Any]) -> str:
    """The line a person needs: a loop's failing items with their messages, a command's stderr."""
    items = [item for item in res.get("results") or [] if isinstance(item, dict) and item.get("failed")]
    if items:
        return "; ".join(f"{_item_label(item)}: {_result_message(item)}" for item in items)
    msg = str(res.get("msg") or "").strip()
    if msg.startswith("MODULE FAILURE"):
        msg = "MODULE FAILURE"
    if msg not in _GENERIC_MESSAGES:
        return msg
    for key in ("message", "reason", "stderr", "module_stderr", "module_stdout", "stdout"):
        value = str(res.get(key) or "").strip()
        if value:
            return value.splitlines()[-1] if "std" in key else value
    return msg or "failed (no message)"


def training_progress(host: str, res: dict[str, Any]) -> TrainingProgress | None:
    """A training status carried by a task result (groot_train returns its status.json)."""
    status = res.get("status") if isinstance(res.get("status"), dict) else res
    if not isinstance(status, dict) or "max_steps" not in status or "step" not in status:
        return None

    def num(key: str) -> float | None:
        value = status.get(key)
        return float(value) if isinstance(value, (int, float)) else None

    step, max_steps = num("step"), num("max_steps")
    failure = status.get("failure")
    plot = status.get("loss_plot")
    return TrainingProgress(
        host=host,
        recipe=status.get("recipe"),
        state=status.get("state"),
        step=int(step) if step is not None else None,
        max_steps=int(max_steps) if max_steps is not None else None,
        loss=num("loss"),
        it_s=num("it_s"),
        eta_s=num("eta_s"),
        failure=failure if isinstance(failure, dict) else None,
        loss_plot=plot if isinstance(plot, str) else None,
        nonfinite=status.get("nonfinite") if isinstance(status.get("nonfinite"), dict) else None,
        note=(status.get("data_drift") or {}).get("note")
        if isinstance(status.get("data_drift"), dict)
        else None,
    )


@dataclass
class EventRecorder:
    """ansible-runner ``event_handler`` writing ``events.jsonl`` and tracking the run."""

    path: Path
    secrets: tuple[str, ...] = ()
    on_update: Any = None  # callable(recorder, event) for live rendering
    current_play: str = ""
    current_task: dict[str, str] = field(default_factory=dict)  # host -> task
    last_task: str = ""
    failures: list[TaskFailure] = field(default_factory=list)
    stats: dict[str, dict[str, int]] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)
    training: dict[str, TrainingProgress] = field(default_factory=dict)
    # ansible-playbook's own errors (a vault it cannot decrypt, a playbook it cannot parse): no task
    # failed, nothing reached a host, and the message is only in its output.
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _in_error: bool = False
    _handle: IO[str] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("a", encoding="utf-8")

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def scrub(self, text: str) -> str:
        return self._scrub(text)

    def _scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "********")
        return text

    def __call__(self, event: dict[str, Any]) -> bool:
        with self._lock:
            line = self._scrub(json.dumps(event, default=str, sort_keys=True))
            if self._handle is not None:
                self._handle.write(line + "\n")
                self._handle.flush()
            self._track(event)
        if self.on_update is not None:
            self.on_update(self, event)
        return True

    def _track(self, event: dict[str, Any]) -> None:
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        host = data.get("host") or data.get("remote_addr") or ""
        if kind in OUTPUT_EVENTS:
            self._track_output(str(event.get("stdout") or ""))
            return
        self._in_error = False
        if kind == "playbook_on_play_start":
            self.current_play = data.get("play", "")
        elif kind == "playbook_on_task_start":
            self.last_task = data.get("task", "")
        elif kind == "runner_on_start" and host:
            self.current_task[host] = data.get("task", "")
        elif kind in RESULT_EVENTS:
            res = data.get("res") or {}
            entry = {
                "event": kind,
                "host": host,
                "play": data.get("play", ""),
                "task": data.get("task", ""),
                "action": data.get("resolved_action") or data.get("task_action", ""),
                "res": res,
            }
            self.results.append(entry)
            if kind in FAILED_EVENTS and not data.get("ignore_errors"):
                self.failures.append(
                    TaskFailure(
                        host=host,
                        task=entry["task"],
                        play=entry["play"],
                        message=self._scrub(_result_message(res)),
                        unreachable=kind == "runner_on_unreachable",
                    )
                )
            self._track_training(host, res)
        elif kind == "runner_retry":
            # An `until` loop polling a run (train -e wait=true): each attempt carries its status.
            self._track_training(host, data.get("res") or {})
        elif kind == "playbook_on_stats":
            for counter in ("ok", "changed", "failures", "dark", "skipped", "rescued", "ignored"):
                for name, count in (data.get(counter) or {}).items():
                    self.stats.setdefault(name, {}).setdefault(counter, 0)
                    self.stats[name][counter] += int(count)

    def _track_output(self, text: str) -> None:
        for raw in text.splitlines() or [""]:
            line = _ANSI.sub("", raw).rstrip()
            if _ERROR_START.match(line):
                self.errors.append(self._scrub(_ERROR_START.sub("", line)))
                self._in_error = True
            elif _WARNING_START.match(line):
                self.warnings.append(self._scrub(_WARNING_START.sub("", line)))
                self._in_error = False
            elif self._in_error and line.strip():
                # The lines after an error belong to it ("Origin: FILE", the offending line).
                self.errors[-1] += "\n" + self._scrub(line.strip())
            else:
                self._in_error = False

    def _track_training(self, host: str, res: Any) -> None:
        progress = training_progress(host, res) if isinstance(res, dict) else None
        if progress is not None:
            self.training[host] = progress

    def host_summary(self) -> dict[str, dict[str, int]]:
        """Per-host ``ok``/``changed``/``failed``/``unreachable``/``skipped`` counts."""
        summary: dict[str, dict[str, int]] = {}
        for host, counts in sorted(self.stats.items()):
            summary[host] = {
                "ok": counts.get("ok", 0),
                "changed": counts.get("changed", 0),
                "failed": counts.get("failures", 0),
                "unreachable": counts.get("dark", 0),
                "skipped": counts.get("skipped", 0),
            }
        return summary
