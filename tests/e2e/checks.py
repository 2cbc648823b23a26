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


def check_datasets(recipe_name: str, recipe: dict[str, Any], seeded: dict[str, str]) -> None:
    from groot_ops.data.validate import validate_dataset

    record_path = workspace() / "datasets" / "provenance" / f"{recipe_name}.json"
    assert record_path.exists(), f"the datasets stage recorded no provenance at {record_path}"
    record = json.loads(record_path.read_text())
    # Downloaded at the commit the lab Hub holds for each dataset, and that SHA recorded.
    shas = {entry["repo_id"]: entry["sha"] for entry in record["datasets"]}
    assert shas == {d["repo_id"]: seeded[d["repo_id"]] for d in recipe["datasets"]}
    training = Path(record["training_dataset"])
    assert training.is_relative_to(workspace()), f"{training} is outside the lab workspace"
    if len(recipe["datasets"]) > 1:
        assert training.name.endswith("-merged"), (
            f"{len(recipe['datasets'])} datasets but {training} is not merged"
        )
    report = validate_dataset(training)
    assert report["ok"], f"{training}: {report['problems']}"
    assert report["episodes"] == record["episodes"] and report["frames"] == record["frames"]
    assert (training / "meta" / "stats.json").exists()
