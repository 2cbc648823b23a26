"""Run one playbook through ansible-runner with recording and live rendering."""

from __future__ import annotations

import datetime as _dt
import itertools
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from groot_ops import atomic
from groot_ops.errors import GrootOpsError
from groot_ops.runner.events import EventRecorder
from groot_ops.runner.explain import find_vault_files
from groot_ops.runner.invocation import (
    RunRequest,
    default_state_dir,
    new_run_dir,
    repo_root,
    runner_kwargs,
    vault_source,
)
from groot_ops.runner.render import LiveRenderer, summary_lines


@dataclass
class RunOutcome:
    rc: int
    status: str
    run_dir: Path
    recorder: EventRecorder
    vault_source: str | None = None
    vault_files: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def raw_log(self) -> Path:
        """ansible-playbook's own output, as ansible-runner keeps it."""
        return self.run_dir / "artifacts" / "run" / "stdout"

    def summary_lines(self) -> list[str]:
        """Per-host counts, ansible-playbook's own errors with advice, failures, the exit code."""
        return summary_lines(
            self.recorder, self.rc, vault_source=self.vault_source, vault_files=self.vault_files
        )

    def summary(self) -> dict[str, Any]:
        return {
            "rc": self.rc,
            "status": self.status,
            "run_dir": str(self.run_dir),
            "raw_log": str(self.raw_log),
            "seconds": self.seconds,
            "hosts": self.recorder.host_summary(),
            "failures": [vars(failure) for failure in self.recorder.failures],
            "errors": list(self.recorder.errors),
        }


def execute(
    request: RunRequest, *, stream: IO[str] | None = None, quiet: bool = False, announce: str | None = None
) -> RunOutcome:
    """Run the request's playbook; ``announce`` is printed at once, before Ansible has said anything."""
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
    if announce:
        renderer.say(announce)
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
    clock = time.monotonic()
    try:
        runner = ansible_runner.run(event_handler=recorder, **kwargs)
    finally:
        renderer.finish()
        recorder.close()
    rc = int(runner.rc if runner.rc is not None else 1)
    outcome = RunOutcome(
        rc=rc,
        status=str(runner.status),
        run_dir=run_dir,
        recorder=recorder,
        vault_source=vault_source(request, root),
        vault_files=tuple(find_vault_files(Path(kwargs["inventory"]), _extra_var_files(kwargs))),
        seconds=round(time.monotonic() - clock, 1),
    )
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


def _extra_var_files(kwargs: dict[str, Any]) -> list[str]:
    """The ``-e @FILE`` paths of a runner command line (the lab's vault among them)."""
    import shlex

    args = shlex.split(kwargs.get("cmdline") or "")
    return [arg[1:] for flag, arg in itertools.pairwise(args) if flag == "-e" and arg.startswith("@")]


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
                    "failure": _first_failure(data),
                }
            )
        if len(found) >= limit:
            break
    return found


def _first_failure(summary: dict[str, Any]) -> str | None:
    """The one line that says why a recorded run failed: its first error or failed task."""
    errors = summary.get("errors") or []
    if errors:
        return str(errors[0]).splitlines()[0]
    failures = summary.get("failures") or []
    if failures:
        message = str(failures[0].get("message") or "").splitlines()
        return f"{failures[0].get('host')} | {failures[0].get('task')}: {message[0] if message else ''}"
    return None
