"""What each stage must have left behind in the lab, checked from the controller.

The lab's data roots are engine-host paths under ``.lab/hosts/<host>/workspace``, so the
controller reads the very files the trainers wrote.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from groot_ops.lab import layout
from groot_ops.lab.docker import inspect
from groot_ops.lab.layout import LabPaths

REPO = Path(__file__).resolve().parents[2]
PATHS = LabPaths(REPO)


def workspace(host: str = "lab-ws") -> Path:
    return PATHS.host_data(host) / "workspace"


def check_provision(recipe: dict[str, Any], nodes: list[str]) -> None:
    for host in nodes:
        info = inspect("container", f"{host}-dm-workstation")
        assert info is not None, f"provision left no dm-workstation container for {host}"
        assert info["State"]["Running"], f"{host}-dm-workstation is not running"
        # The trainer sits on the internal lab network only: no route out of the lab.
        assert set(info["NetworkSettings"]["Networks"]) == {layout.NETWORK}
        assert inspect("network", layout.NETWORK)["Internal"] is True


def check_datasets(recipe: dict[str, Any], seeded: dict[str, str]) -> None:
    from groot_ops.data.validate import validate_dataset

    groot = workspace() / "datasets" / "groot"
    produced = sorted(p.parent.parent for p in groot.glob("*/meta/groot_ops.json"))
    assert produced, f"no converted dataset under {groot}"
    for dataset in produced:
        report = validate_dataset(dataset)
        assert report["ok"], f"{dataset}: {report['problems']}"
    provenance = json.dumps([json.loads((d / "meta/groot_ops.json").read_text()) for d in produced])
    for entry in recipe["datasets"]:
        # Downloaded at the commit the lab Hub holds for it, and that SHA recorded.
        assert seeded[entry["repo_id"]] in provenance, f"{entry['repo_id']}: seeded SHA not in provenance"
    if len(recipe["datasets"]) > 1:
        assert any(d.name.endswith("-merged") for d in produced), f"no merged dataset in {groot}"
