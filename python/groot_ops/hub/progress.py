"""Progress of a long Hub job, written by the job and read by a poller while it runs.

An Ansible module's output only exists once it has finished, so a download that waits out a rate
limit for ten minutes would be silent for ten minutes. Instead the job (started with ``async``)
appends one JSON object per line to a progress file on the managed host, and a poll task (module
``groot_progress``, ``until: done``) reads the lines added since its last poll. Each poll's result
carries them, so ``ansible-playbook`` shows them (callback ``groot_progress``) and the CLI's renderer
can too (the ``runner_retry`` events of the poll task).

Record kinds: ``start`` (``job``: the token of this run of the job, so that a poller never reads a
previous run's lines), ``step`` (what the job is doing now), ``retry``/``client_retry``/``gave_up``
(:mod:`groot_ops.hub.retry`), ``done``. Every record has ``time`` and ``line`` (one readable line).
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any


def append_record(path: str | Path, kind: str, line: str, **fields: Any) -> None:
    """Append one record; a single write in append mode, so a reader never sees half of it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    record = {"time": time.time(), "kind": kind, "line": line, **fields}
    with target.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, default=str) + "\n")


def start_job(path: str | Path, job: str, line: str) -> None:
    """Begin a run: earlier runs' lines are dropped, then a ``start`` record names this run."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("")
    append_record(target, "start", line, job=job)


def _records(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    records = []
    for raw in text.splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(raw)
            if isinstance(record, dict):
                records.append(record)
    return records


def _async_result(results_file: str | None) -> dict[str, Any] | None:
    """The async job's own result file (written by Ansible's async wrapper), once finished."""
    if not results_file:
        return None
    try:
        data = json.loads(Path(results_file).expanduser().read_text())
    except (FileNotFoundError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("finished") else None


def _cursor(path: Path) -> Path:
    return path.with_name(path.name + ".cursor")


def _seen(path: Path, job: str) -> int:
    """Lines of run ``job`` that earlier polls returned (kept next to the progress file)."""
    try:
        cursor = json.loads(_cursor(path).read_text())
    except (FileNotFoundError, ValueError):
        return 0
    return int(cursor.get("seen", 0)) if isinstance(cursor, dict) and cursor.get("job") == job else 0


def read_progress(
    path: str | Path, *, job: str, since: int | None = None, results_file: str | None = None
) -> dict[str, Any]:
    """What a job of token ``job`` reported that no earlier poll returned, and whether it ended.

    ``since`` None: the poller's own cursor decides (``<path>.cursor``), because an ``until`` loop runs
    its task with the arguments templated once, so it cannot pass back what it saw. ``results_file``:
    the async job's result file; when it says finished, its result is returned (``result``) and the
    poll is done, also when the job died before writing ``done``.
    """
    progress = Path(path)
    records = _records(progress)
    start = next((i for i, r in enumerate(records) if r.get("kind") == "start" and r.get("job") == job), None)
    mine = [] if start is None else records[start:]
    lines = [str(r.get("line", "")) for r in mine]
    finished = _async_result(results_file)
    done = finished is not None or any(r.get("kind") == "done" for r in mine)
    if finished is not None:
        # The async wrapper's bookkeeping and the module's echo of its arguments are not the job's result.
        dropped = ("started", "finished", "ansible_job_id", "results_file", "invocation")
        result = {k: v for k, v in finished.items() if k not in dropped}
    else:
        result = next((r.get("result") for r in reversed(mine) if r.get("kind") == "done"), None)
    last = lines[-1] if lines else None
    if since is None:
        since = _seen(progress, job)
        with contextlib.suppress(OSError):
            _cursor(progress).write_text(json.dumps({"job": job, "seen": len(lines)}))
    return {
        "changed": False,
        "started": start is not None,
        "done": done,
        "lines": lines[since:],
        "lines_total": len(lines),
        "last": last,
        "msg": last or "waiting for the job to start",
        "result": result,
    }


def wait_progress(
    path: str | Path,
    *,
    job: str,
    since: int | None = None,
    results_file: str | None = None,
    wait_s: float = 0.0,
    interval_s: float = 0.1,
) -> dict[str, Any]:
    """``read_progress``, after waiting up to ``wait_s`` for a new line or the job's end.

    A poll task that sleeps its ``delay`` between polls hears of the end only at its next poll: a job
    of two seconds costs a whole delay. Waiting here instead returns as soon as something happened, so
    the poll task runs without a delay and each line still shows when it is written.
    """
    progress = Path(path)
    seen = _seen(progress, job) if since is None else since
    deadline = time.monotonic() + max(0.0, wait_s)
    while time.monotonic() < deadline:
        # ``since`` given: the peek leaves the cursor alone; the final read below moves it.
        peek = read_progress(progress, job=job, since=seen, results_file=results_file)
        if peek["done"] or peek["lines"]:
            break
        time.sleep(interval_s)
    return read_progress(progress, job=job, since=since, results_file=results_file)
