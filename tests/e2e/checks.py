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


def standin_commit() -> str:
    """The commit `lab up` published the Isaac-GR00T stand-in at (the lab's groot_isaac_groot_commit)."""
    from groot_ops.lab.standin import commit_file

    return commit_file(PATHS).read_text().strip()


def check_provision(recipe: dict[str, Any], nodes: list[str]) -> None:
    from groot_ops.lab.docker import docker

    commit = standin_commit()
    for host in nodes:
        container = f"{host}-dm-workstation"
        info = inspect("container", container)
        assert info is not None, f"provision left no dm-workstation container for {host}"
        assert info["State"]["Running"], f"{container} is not running"
        # The trainer sits on the internal lab network only: no route out of the lab.
        assert set(info["NetworkSettings"]["Networks"]) == {layout.NETWORK}
        assert inspect("network", layout.NETWORK)["Internal"] is True
        # The stand-in checkout, at the pinned commit, installed editable by uv into the one env.
        probe = (
            "import json, gr00t, gr00t.experiment.experiment, torchcodec, groot_ops; "
            "r = json.load(open('/opt/groot-env/groot-ops-env.json')); "
            "print(json.dumps({'gr00t': gr00t.__file__, 'commit': r['project_commit'], 'index': r['index']}))"
        )
        seen = json.loads(docker(["exec", container, "/opt/groot-env/bin/python", "-c", probe]).strip())
        assert seen["gr00t"] == str(workspace(host) / "Isaac-GR00T" / "gr00t" / "__init__.py"), seen
        assert seen["commit"] == commit and "--offline" in seen["index"], seen
        head = docker(
            ["exec", container, "git", "-C", str(workspace(host) / "Isaac-GR00T"), "rev-parse", "HEAD"]
        )
        assert head.strip() == commit


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


def check_train(recipe_name: str, recipe: dict[str, Any], hosts: list[str]) -> None:
    """Training ran to its last step on every node; the final checkpoint is complete.

    Which node holds the complete (rank 0) checkpoint is the rendezvous' business, so it is looked
    for on every node rather than assumed to be on the rendezvous host.
    """
    from groot_ops.train.checkpoints import is_complete

    max_steps = int(recipe["training"]["max_steps"])
    for host in hosts:
        status_path = workspace(host) / "runs" / recipe_name / "status.json"
        assert status_path.exists(), f"{host}: no {status_path}"
        status = json.loads(status_path.read_text())
        assert status["state"] == "finished", f"{host}: training state {status['state']}: {status}"
    finals = [
        workspace(host) / "checkpoints" / recipe_name / f"checkpoint-{max_steps}"
        for host in hosts
        if is_complete(workspace(host) / "checkpoints" / recipe_name / f"checkpoint-{max_steps}")
    ]
    assert finals, f"no complete checkpoint-{max_steps} on any of {hosts}"


def check_publish(recipe: dict[str, Any], token: str) -> None:
    """The export is on the lab Hub as a private repo with its model card, inference files only."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    from groot_ops.lab.hub import LOCAL_URL

    repo_id = recipe["hub"]["repo_id"]
    info = HfApi(endpoint=LOCAL_URL, token=token).model_info(repo_id)
    assert info.private is True
    files = {s.rfilename for s in info.siblings or []}
    assert "README.md" in files, f"{repo_id}: no model card in {sorted(files)}"
    assert not {f for f in files if f.split("/")[-1].startswith(("optimizer", "rng_state", "scheduler"))}
    try:
        HfApi(endpoint=LOCAL_URL, token=False).model_info(repo_id)
    except HfHubHTTPError:
        pass
    else:
        raise AssertionError(f"{repo_id} is readable without a token")


def check_deploy(recipe: dict[str, Any]) -> None:
    """groot-server is running and answers the ZMQ probe (ping, then a canned get_action)."""
    from groot_ops.probe import probe_server

    info = inspect("container", "groot-server")
    assert info is not None and info["State"]["Running"], "groot-server is not running"
    # Served from the image the role built on lab-spark from the stand-in's docker/Dockerfile at the pin.
    commit = standin_commit()
    assert info["Config"]["Image"] == f"groot-server:default-{commit}", info["Config"]["Image"]
    labels = inspect("image", info["Config"]["Image"])["Config"]["Labels"]
    assert labels["org.groot-ops.isaac-groot-commit"] == commit
    assert labels["org.groot-ops.dockerfile"] == "docker/Dockerfile"
    port = int(recipe.get("deploy", {}).get("port", 5555))
    result = probe_server("127.0.0.1", port, request_timeout_s=10.0, startup_timeout_s=60.0)
    assert result["ok"], f"groot-server probe failed: {result}"
