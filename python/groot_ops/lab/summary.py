"""The lab's part of the end of ``groot-ops lab run``: where its services and files are, how to leave."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from groot_ops.lab.layout import LabPaths


def lab_lines(repo: Path, state: dict[str, Any], *, recipe: str) -> list[str]:
    paths = LabPaths(repo)
    hub = state.get("hub", {})
    return [
        "The lab:",
        f"  lab Hub        {hub.get('local_url')} (inside the lab: {hub.get('lab_url')}); "
        f"seeded: {', '.join(sorted(hub.get('datasets', {})))}",
        f"  datasets       {paths.host_data('lab-ws')}/workspace/datasets/provenance/{recipe}.json",
        f"  training runs  {paths.host_data('lab-ws')}/workspace/runs/{recipe}/ (train.log, status.json)",
        f"  status         groot-ops status {recipe}",
        f"  ssh to a host  ssh -F {paths.ssh_config} lab-ws",
        "  tear down      make lab-down",
    ]
