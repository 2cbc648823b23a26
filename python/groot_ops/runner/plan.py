"""Turn the results of a ``--check --diff`` run into the plan an operator reads.

Each custom module reports what it would do in its result; this module only phrases it.
"""

from __future__ import annotations

from typing import Any

from groot_ops.runner.events import EventRecorder


def _size(num: Any) -> str:
    if not isinstance(num, (int, float)):
        return "?"
    value = float(num)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def describe(action: str, task: str, res: dict[str, Any]) -> str | None:
    """One plan line for a task result, or None when it would change nothing worth saying."""
    name = action.rsplit(".", 1)[-1]
    changed = bool(res.get("changed"))
    if name == "groot_dataset":
        what = "fetch" if changed else "up to date"
        return (
            f"dataset {res.get('repo_id', '?')} @ {res.get('revision', '?')} -> {res.get('sha', '?')}: "
            f"{what}" + (f" ({res.get('files', '?')} files, {_size(res.get('bytes'))})" if changed else "")
        )
    if name == "groot_convert":
        return f"convert -> {res.get('output', '?')}: {'convert' if changed else 'up to date'}"
    if name == "groot_merge":
        return f"merge {len(res.get('inputs') or [])} datasets -> {res.get('output', '?')}: " + (
            "merge" if changed else "up to date"
        )
    if name == "groot_stats":
        return "stats: " + ("fresh" if not changed else "missing or stale -> recompute")
    if name == "groot_validate":
        return "validate: " + ("ok" if res.get("ok", True) else f"{len(res.get('problems') or [])} problems")
    if name == "groot_train":
        action_word = res.get("action", "?")
        extra = ""
        if action_word == "resume":
            extra = f" from step {res.get('resume_step', res.get('step', '?'))}"
        return f"training: {action_word}{extra}"
    if name == "groot_preflight":
        budget = res.get("budget") or {}
        if isinstance(budget, dict) and budget:
            return (
                f"disk budget {_size(budget.get('need_bytes'))} vs free {_size(budget.get('free_bytes'))}"
                f" -> {'fits' if budget.get('ok', res.get('ok')) else 'DOES NOT FIT'}"
            )
        return f"preflight: {'ok' if res.get('ok', True) else 'FAILING'}"
    if name in ("groot_export", "groot_hub_upload"):
        if not changed:
            return f"{name.replace('groot_', '')}: up to date"
        files = res.get("uploaded_files") or res.get("files") or []
        target = res.get("repo_id", res.get("export_dir", ""))
        return f"{name.replace('groot_', '')}: {target} ({len(files)} files)"
    if name in ("docker_container", "community.docker.docker_container"):
        return f"container {res.get('container', {}).get('Name', task) if changed else task}: " + (
            "create/recreate" if changed else "unchanged"
        )
    if name == "groot_server_probe":
        return None
    if changed:
        return f"{task}: would change"
    return None


def plan_lines(recorder: EventRecorder) -> list[dict[str, str]]:
    lines: list[dict[str, str]] = []
    for entry in recorder.results:
        if entry["event"] != "runner_on_ok" or not isinstance(entry["res"], dict):
            continue
        text = describe(entry["action"] or "", entry["task"], entry["res"])
        if text:
            lines.append({"host": entry["host"], "task": entry["task"], "plan": text})
    return lines
