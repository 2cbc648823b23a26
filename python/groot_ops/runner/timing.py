"""Where a run's time went, from its ``events.jsonl``: wall time per task and per play.

A task's wall time runs from its start to the next task's (or the end of the play): that includes
Ansible's own work between tasks (templating, connecting), which the results' ``duration`` leaves out.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TaskTime:
    play: str
    task: str
    seconds: float


def _when(event: dict) -> float | None:
    created = event.get("created")
    if not created:
        return None
    return _dt.datetime.fromisoformat(str(created)).timestamp()


def task_times(events_path: Path) -> list[TaskTime]:
    """Each task of the run in order, with its wall time."""
    marks: list[tuple[float, str, str]] = []  # (time, play, task); task "" closes the play
    play = ""
    end: float | None = None
    for line in events_path.read_text().splitlines():
        event = json.loads(line)
        kind, when = event.get("event"), _when(event)
        data = event.get("event_data") or {}
        if when is None:
            continue
        if kind == "playbook_on_play_start":
            marks.append((when, play, ""))
            play = str(data.get("play", ""))
        elif kind == "playbook_on_task_start":
            marks.append((when, play, str(data.get("task", ""))))
        elif kind == "playbook_on_stats":
            marks.append((when, play, ""))
        end = when
    if end is not None:
        marks.append((end, play, ""))
    times = []
    for (start, play_name, task), (stop, _, _) in itertools.pairwise(marks):
        if task:
            times.append(TaskTime(play_name, task, round(stop - start, 3)))
    return times


def slowest(times: list[TaskTime], count: int = 10) -> list[TaskTime]:
    """The tasks that took longest; a task that starts more than once in a play (an include) summed."""
    total: dict[tuple[str, str], float] = {}
    for item in times:
        total[(item.play, item.task)] = total.get((item.play, item.task), 0.0) + item.seconds
    ranked = sorted(total.items(), key=lambda kv: kv[1], reverse=True)[:count]
    return [TaskTime(play, task, round(seconds, 2)) for (play, task), seconds in ranked]


def per_play(times: list[TaskTime]) -> dict[str, float]:
    plays: dict[str, float] = {}
    for item in times:
        plays[item.play] = round(plays.get(item.play, 0.0) + item.seconds, 2)
    return plays
