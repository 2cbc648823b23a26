"""``groot-ops bench lab``: the ops loop on a fresh lab, as an operator meets it.

One run: a fresh lab (this checkout's lab is taken down first; images and wheelhouse stay cached),
then through the operator CLI's own runner the first ``site.yml``, a second one that must change
nothing, and a ``plan`` of the provisioned lab; wall times, the ratios second/first and plan/first
against the targets, the machine's load average (the box is shared: numbers from a loaded machine
are inflated), and where the time of each run went.
"""

from __future__ import annotations

import datetime as _dt
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from groot_ops.errors import GrootOpsError
from groot_ops.lab import bringup
from groot_ops.lab.hosts import ssh_logins
from groot_ops.runner.execute import RunOutcome, execute
from groot_ops.runner.invocation import RunRequest
from groot_ops.runner.timing import per_play, slowest, task_times

SECOND_TARGET = 0.25  # second site.yml <= 25% of the first
PLAN_TARGET_S = 30.0


class BenchError(GrootOpsError):
    """A measured run failed or the second run changed something."""


def _load() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def _commit(repo: Path) -> str:
    proc = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                          text=True, check=False)  # fmt: skip
    dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True,
                           check=False).stdout.strip()  # fmt: skip
    return (proc.stdout.strip() or "?") + ("-dirty" if dirty else "")


def _measured(request: RunRequest, state_dir: Path, verbose: bool) -> tuple[float, RunOutcome]:
    request.state_dir = state_dir
    started = time.monotonic()
    outcome = execute(request, quiet=not verbose)
    seconds = round(time.monotonic() - started, 1)
    if outcome.rc != 0:
        why = outcome.recorder.errors[:1] or [f.line() for f in outcome.recorder.failures[:1]]
        raise BenchError(
            f"{'plan' if request.check else 'site.yml'} failed (exit {outcome.rc}): "
            f"{why[0] if why else 'no message'}; raw log {outcome.raw_log}"
        )
    return seconds, outcome


def _opened(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: after.get(name, 0) - before.get(name, 0) for name in after}


def _profile(outcome: RunOutcome) -> dict[str, Any]:
    times = task_times(outcome.run_dir / "events.jsonl")
    return {
        "plays": per_play(times),
        "slowest": [vars(item) for item in slowest(times, 8)],
        "tasks": len(times),
        "run_dir": str(outcome.run_dir),
    }


def run_bench(
    repo: Path,
    *,
    recipe: str = "lab-demo",
    keep: bool = False,
    verbose: bool = False,
    extravars: dict[str, Any] | None = None,
    say: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "recipe": recipe,
        "commit": _commit(repo),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_before": _load(),
        "extravars": sorted(extravars or {}),
    }
    extra = dict(extravars or {})
    state_dir = repo / ".state" / "bench" / time.strftime("%Y%m%dT%H%M%S")
    say("taking this checkout's lab down for a fresh start (images and wheelhouse stay cached)")
    bringup.down(repo)
    started = time.monotonic()
    bringup.up(repo, say=say)
    result["lab_up_s"] = round(time.monotonic() - started, 1)
    say(f"lab up in {result['lab_up_s']} s; first site.yml ...")
    logins = [ssh_logins()]
    try:
        first_s, first = _measured(
            RunRequest("site", recipe, extravars={**extra, "wait": True}), state_dir, verbose
        )
        logins.append(ssh_logins())
        say(f"first site.yml {first_s} s; second ...")
        second_s, second = _measured(
            RunRequest("site", recipe, extravars={**extra, "wait": True}), state_dir, verbose
        )
        logins.append(ssh_logins())
        changed = [
            f"{entry['host']}: {entry['task']}"
            for entry in second.recorder.results
            if isinstance(entry["res"], dict) and entry["res"].get("changed")
        ]
        if changed:
            raise BenchError(
                f"the second site.yml changed {len(changed)} task(s): {changed}; {second.raw_log}"
            )
        say(f"second site.yml {second_s} s (changed=0); plan ...")
        plan_s, plan = _measured(
            RunRequest("site", recipe, check=True, diff=True, extravars=extra), state_dir, verbose
        )
        logins.append(ssh_logins())
        say(f"plan {plan_s} s")
    finally:
        result["load_after"] = _load()
        if not keep:
            bringup.down(repo)
    result.update(
        first_s=first_s,
        second_s=second_s,
        plan_s=plan_s,
        second_vs_first=round(second_s / first_s, 3),
        plan_vs_first=round(plan_s / first_s, 3),
        targets={"second_vs_first": SECOND_TARGET, "plan_s": PLAN_TARGET_S},
        met={"second_vs_first": second_s / first_s <= SECOND_TARGET, "plan_s": plan_s <= PLAN_TARGET_S},
        second_changed=0,
        ssh_logins={
            name: _opened(before, after)
            for name, before, after in zip(("first", "second", "plan"), logins[:-1], logins[1:], strict=True)
        },
        profile={"first": _profile(first), "second": _profile(second), "plan": _profile(plan)},
    )
    return result


def summary_text(result: dict[str, Any]) -> str:
    met = {key: "met" if ok else "NOT met" for key, ok in result["met"].items()}
    lines = [
        f"lab bench, recipe {result['recipe']}, commit {result['commit']}, {result['date']}, "
        f"{result['cpus']} CPUs, load average {result['load_before']} -> {result['load_after']}",
        f"  lab up (fresh)     {result['lab_up_s']:7.1f} s",
        f"  first site.yml     {result['first_s']:7.1f} s",
        f"  second site.yml    {result['second_s']:7.1f} s  changed=0  second/first "
        f"{result['second_vs_first']:.2f} (target <= {SECOND_TARGET:.2f}: {met['second_vs_first']})",
        f"  plan (provisioned) {result['plan_s']:7.1f} s  plan/first {result['plan_vs_first']:.2f} "
        f"(target <= {PLAN_TARGET_S:.0f} s: {met['plan_s']})",
    ]
    lines.append(f"  ssh logins the lab hosts accepted per run: {result['ssh_logins']}")
    for name in ("second", "plan"):
        profile = result["profile"][name]
        lines.append(f"  where the {name} run went ({profile['tasks']} tasks; {profile['run_dir']}):")
        for item in profile["slowest"]:
            lines.append(f"    {item['seconds']:6.2f} s  {item['play']} | {item['task']}")
    return "\n".join(lines)
