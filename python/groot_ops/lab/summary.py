"""The end-of-run summary of ``groot-ops lab run``: what happened and where to look."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from groot_ops.lab.layout import LabPaths
from groot_ops.lab.pipeline import PlaybookRun


def render_summary(repo: Path, state: dict[str, Any], run: PlaybookRun, *, recipe: str) -> dict[str, Any]:
    paths = LabPaths(repo)
    lines = [
        "",
        f"== groot-ops lab: {run.playbook} with recipe {recipe}: "
        f"{'OK' if run.ok else 'FAILED'} in {run.seconds}s ==",
    ]
    for host, counts in sorted(run.recap.items()):
        lines.append(
            f"  {host:24} ok={counts['ok']} changed={counts['changed']} "
            f"failed={counts['failed']} unreachable={counts['unreachable']}"
        )
    hub = state.get("hub", {})
    lines += [
        f"  lab Hub:        {hub.get('local_url')} (inside the lab: {hub.get('lab_url')})",
        f"  seeded:         {', '.join(sorted(hub.get('datasets', {})))}",
        f"  playbook log:   {run.log}",
        f"  datasets:       {paths.host_data('lab-ws')}/workspace/datasets/provenance/{recipe}.json",
        f"  training runs:  {paths.host_data('lab-ws')}/workspace/runs/{recipe}/ (train.log, status.json)",
        f"  served model:   groot-server, ZMQ on 127.0.0.1:5555; state {paths.host_data('lab-spark')}/state",
        f"  ssh to a host:  ssh -F {paths.ssh_config} lab-ws",
        "  tear down:      make lab-down",
    ]
    return {
        "ok": run.ok,
        "recipe": recipe,
        "playbook": run.playbook,
        "seconds": run.seconds,
        "recap": run.recap,
        "log": str(run.log),
        "hub": hub,
        "text": "\n".join(lines),
    }
