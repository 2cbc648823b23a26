"""Run one playbook through ansible-runner with recording and live rendering."""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from groot_ops import atomic
from groot_ops.errors import GrootOpsError
from groot_ops.runner.events import EventRecorder
from groot_ops.runner.invocation import (
    RunRequest,
    default_state_dir,
    new_run_dir,
    repo_root,
    runner_kwargs,
)
from groot_ops.runner.render import LiveRenderer


@dataclass
class RunOutcome:
    rc: int
    status: str
    run_dir: Path
    recorder: EventRecorder

    def summary(self) -> dict[str, Any]:
        return {
            "rc": self.rc,
            "status": self.status,
            "run_dir": str(self.run_dir),
            "hosts": self.recorder.host_summary(),
            "failures": [vars(failure) for failure in self.recorder.failures],
        }


def execute(request: RunRequest, *, stream: IO[str] | None = None, quiet: bool = False) -> RunOutcome:
    try:
        import ansible_runner
    except ImportError as exc:  # pragma: no cover - controller extra missing
        raise GrootOpsError("ansible-runner is missing: pip install 'groot-ops[controller]'") from exc

    root = repo_root()
    state_dir = request.state_dir or default_state_dir(root)
    # A dry run's directory says so: `status` lists plans apart from real runs.
    label = f"{request.stage}-check" if request.check else request.stage
    run_dir = new_run_dir(state_dir, label, request.recipe)
    kwargs = runner_kwargs(request, root, run_dir)
    renderer = LiveRenderer(stream, quiet=quiet)
    secrets = tuple(s for s in (request.vault_password,) if s)
    recorder = EventRecorder(run_dir / "events.jsonl", secrets=secrets, on_update=renderer)
    started = _dt.datetime.now(_dt.timezone.utc).isoformat()
    atomic.write_json(
        run_dir / "request.json",
        {
            "stage": request.stage,
            "recipe": request.recipe,
            "inventory": kwargs["inventory"],
            "check": request.check,
            "diff": request.diff,
            "tags": request.tags,
            "limit": request.limit,
            "extravars": sorted(request.extravars),
            "extra_vars_files": list(request.extra_vars_files),
            "started": started,
        },
    )
    try:
        runner = ansible_runner.run(event_handler=recorder, **kwargs)
    finally:
        renderer.finish()
        recorder.close()
    rc = int(runner.rc if runner.rc is not None else 1)
    outcome = RunOutcome(rc=rc, status=str(runner.status), run_dir=run_dir, recorder=recorder)
    summary = outcome.summary()
    summary.update(
        stage=request.stage,
        check=request.check,
        recipe=request.recipe,
        started=started,
        finished=_dt.datetime.now(_dt.timezone.utc).isoformat(),
    )
    atomic.write_json(run_dir / "summary.json", summary)
    return outcome


def recent_runs(state_dir: Path, limit: int = 5) -> list[dict[str, Any]]:
    runs_dir = state_dir / "runs"
    if not runs_dir.is_dir():
        return []
    found: list[dict[str, Any]] = []
    for run_dir in sorted(runs_dir.iterdir(), reverse=True):
        summary_path = run_dir / "summary.json"
        if summary_path.is_file():
            data = json.loads(summary_path.read_text())
            found.append(
                {
                    "run_dir": str(run_dir),
                    "stage": data.get("stage"),
                    "check": bool(data.get("check")),
                    "recipe": data.get("recipe"),
                    "rc": data.get("rc"),
                    "finished": data.get("finished"),
                }
            )
        if len(found) >= limit:
            break
    return found
