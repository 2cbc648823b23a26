"""Turn the results of a ``--check --diff`` run into the plan an operator reads.

Each custom module reports what it would do in its result; this module only phrases it.
"""

from __future__ import annotations

from typing import Any

from groot_ops.runner.events import EventRecorder
from groot_ops.units import binary_size


def _preflight_line(res: dict[str, Any]) -> str:
    disk = [c for c in res.get("checks") or [] if str(c.get("name", "")).startswith("disk:")]
    hard_failed = [c.get("name") for c in res.get("failed_checks") or []]
    verdict = "ok" if not hard_failed else f"REFUSED ({', '.join(map(str, hard_failed))})"
    if not disk:
        return f"preflight: {verdict}"
    free = min(
        (c.get("observed") or {}).get("free_bytes", 0) for c in disk if isinstance(c.get("observed"), dict)
    )
    need = (res.get("budget") or {}).get("total_bytes")
    fits = all(c.get("ok") for c in disk)
    return f"preflight: {verdict}; disk budget {binary_size(need)} vs {binary_size(free)} free -> " + (
        "fits" if fits else "DOES NOT FIT"
    )


def describe(action: str, task: str, res: dict[str, Any]) -> str | None:
    """One plan line for a task result, or None when it would change nothing worth saying."""
    name = action.rsplit(".", 1)[-1]
    changed = bool(res.get("changed"))
    if "censored" in res:
        # no_log results say nothing; the role's "| report ..." task after them does.
        return None
    if name == "groot_dataset":
        what = "fetch" if changed else "up to date"
        return (
            f"dataset {res.get('repo_id', '?')} @ {res.get('revision', '?')} -> {res.get('sha', '?')}: "
            f"{what}"
            + (f" ({res.get('files', '?')} files, {binary_size(res.get('bytes'))})" if changed else "")
        )
    if name == "groot_convert":
        return f"convert -> {res.get('output', '?')}: {'convert' if changed else 'up to date'}"
    if name == "groot_merge":
        return f"merge {len(res.get('inputs') or [])} datasets -> {res.get('output', '?')}: " + (
            "merge" if changed else "up to date"
        )
    if name == "groot_stats":
        return "stats: " + ("fresh" if not changed else "missing or stale -> recompute")
    if name == "groot_training_dataset":
        # One line per dataset and step: the role's "| report each dataset and step" task prints them.
        return None
    if name == "groot_warm_start":
        # The finetune role's "| report the warm start" task prints its summary (also when no_log hides it).
        return None
    if name == "groot_validate":
        return "validate: " + ("ok" if res.get("ok", True) else f"{len(res.get('problems') or [])} problems")
    if name == "groot_train":
        raw_status = res.get("status")
        status: dict[str, Any] = raw_status if isinstance(raw_status, dict) else {}
        word = res.get("action", "?")
        if word == "resume":
            target = status.get("max_steps", "?")
            return f"training: resume from step {res.get('resume_step', '?')} to {target}"
        if word == "noop":
            return (
                f"training: nothing to do ({status.get('state', 'done')} at step "
                f"{status.get('step', '?')}/{status.get('max_steps', '?')})"
            )
        return f"training: {word}"
    if name == "groot_preflight":
        return _preflight_line(res)
    if name in ("groot_export", "groot_hub_upload"):
        if not changed:
            return f"{name.replace('groot_', '')}: up to date"
        files = res.get("uploaded_files") or res.get("files") or []
        target = res.get("repo_id", res.get("export_dir", ""))
        return f"{name.replace('groot_', '')}: {target} ({len(files)} files)"
    if name == "docker_container":
        return f"{task.split(' | ')[-1]}: " + ("create or recreate" if changed else "unchanged")
    if name == "groot_server_probe":
        return None
    if changed:
        return f"{task}: would change"
    return None


def _debug_lines(task: str, res: dict[str, Any]) -> list[str]:
    """Messages of the roles' plan-worthy debug tasks: a pending container, a "| report ..." task."""
    msgs = [item.get("msg") for item in res.get("results") or [] if isinstance(item, dict)]
    msgs = msgs or [res.get("msg")]
    lines: list[str] = []
    for msg in msgs:
        if isinstance(msg, dict) and "container_pending" in msg:
            lines.append(" ".join(str(msg.get("note", "")).split()))
        elif "| report " in task and isinstance(msg, (str, list)):
            # A report may end with the full command line after " -- ": the plan keeps the verdict. A list
            # is one line per entry (a module's per-dataset lines).
            for text in [msg] if isinstance(msg, str) else [str(m) for m in msg]:
                lines.append(" ".join(text.split(" -- ", 1)[0].split()))
    return lines


def plan_lines(recorder: EventRecorder) -> list[dict[str, str]]:
    lines: list[dict[str, str]] = []
    for entry in recorder.results:
        if entry["event"] != "runner_on_ok" or not isinstance(entry["res"], dict):
            continue
        action = entry["action"] or ""
        if action.rsplit(".", 1)[-1] == "debug":
            texts = _debug_lines(entry["task"], entry["res"])
        else:
            # A looped module task carries one result per item.
            items = [r for r in entry["res"].get("results") or [] if isinstance(r, dict)] or [entry["res"]]
            texts = [t for t in (describe(action, entry["task"], item) for item in items) if t]
        lines.extend({"host": entry["host"], "task": entry["task"], "plan": text} for text in texts)
    return lines
