"""The three recipe shapes beyond lab-demo, each through the whole site.yml on the lab (issue 15): a
GR00T-layout sub-folder of a Hub dataset repo adopted without conversion, NEW_EMBODIMENT with its own
modality config served and probed as such, and a warm start from a model the lab Hub holds.

lab-demo serves again when the module ends: the tests after it expect the lab as the pipeline test left it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from groot_ops.lab.layout import LabPaths
from groot_ops.lab.pipeline import PlaybookRun, run_playbook
from tests.e2e import checks

pytestmark = [pytest.mark.lab, pytest.mark.docker, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
PATHS = LabPaths(REPO)


def _recipes() -> dict[str, Any]:
    text = (REPO / "inventory/lab/group_vars/all/recipes.yml").read_text()
    return yaml.safe_load(text)["groot_recipes"]


def _site(recipe: str, playbook: str = "site.yml") -> PlaybookRun:
    extra = ["-e", "wait=true"] if playbook in ("site.yml", "train.yml") else []
    run = run_playbook(REPO, playbook, recipe=recipe, extra=extra, timeout_s=600)
    tail = "".join(run.log.read_text().splitlines(keepends=True)[-40:])
    assert run.ok, f"{playbook} {recipe} failed (exit {run.returncode}), log {run.log}:\n{tail}"
    return run


def _token() -> str:
    return PATHS.hub_tokens.read_text().strip()


def _hub_sha(repo_id: str, repo_type: str = "model") -> str:
    from huggingface_hub import HfApi

    from groot_ops.lab.hub import LOCAL_URL

    info = HfApi(endpoint=LOCAL_URL, token=_token()).repo_info(repo_id, repo_type=repo_type)
    assert info.sha, f"{repo_id} has no commit on the lab Hub"
    return info.sha


def _card(repo_id: str) -> str:
    from huggingface_hub import hf_hub_download

    from groot_ops.lab.hub import LOCAL_URL

    path = hf_hub_download(repo_id, "README.md", endpoint=LOCAL_URL, token=_token(), cache_dir=None)
    return Path(path).read_text()


def _launch(recipe: str) -> dict[str, Any]:
    return json.loads((checks.workspace() / "runs" / recipe / "launch.json").read_text())


def _serving() -> dict[str, Any]:
    from groot_ops.deploy import container_view
    from groot_ops.lab.docker import inspect

    info = inspect("container", "groot-server")
    assert info is not None and info["State"]["Running"], "groot-server is not running"
    return {"view": container_view(info), "cmd": info["Config"]["Cmd"]}


@pytest.fixture(scope="module")
def shapes_lab(lab: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield lab
    # Leave lab-demo serving, as test_lab_pipeline left it, for the tests that follow.
    if (checks.workspace() / "runs" / "lab-demo" / "launch.json").exists():
        _site("lab-demo", "deploy.yml")


def test_groot_layout_subfolder_is_adopted_trained_and_served(shapes_lab: dict[str, Any]) -> None:
    name = "lab-loco-manip"
    recipe = _recipes()[name]
    _site(name)
    dataset = recipe["datasets"][0]
    raw = checks.workspace() / "datasets" / "raw" / dataset["name"]
    # Only the recipe's sub-folder came down, not the decoy beside it in the same repo.
    fetched = sorted(p.name for p in raw.iterdir() if not p.name.startswith("."))
    assert fetched == [dataset["subfolder"]], fetched
    record = json.loads((checks.workspace() / "datasets" / "provenance" / f"{name}.json").read_text())
    [entry] = record["datasets"]
    assert entry["sha"] == _hub_sha(dataset["repo_id"], "dataset")
    # Adopted as it is (no conversion: the training dataset is the imported copy), stats recomputed.
    training = Path(record["training_dataset"])
    assert training.name == dataset["name"] and record["stats_fingerprint"] == record["fingerprint"]
    checks.check_datasets(name, recipe, shapes_lab["hub"]["datasets"])
    checks.check_train(name, recipe, ["lab-ws"])
    checks.check_publish(recipe, _token())
    serving = _serving()["view"]
    assert serving["revision"] == _hub_sha(recipe["hub"]["repo_id"])
    checks.check_deploy(recipe)


def test_new_embodiment_trains_with_its_config_and_serves_as_new_embodiment(
    shapes_lab: dict[str, Any],
) -> None:
    from groot_ops.probe import probe_server

    name = "lab-teleop"
    recipe = _recipes()[name]
    assert recipe["embodiment_tag"] == "NEW_EMBODIMENT"
    _site(name)
    config = REPO / "inventory" / "modality_configs" / "lab" / recipe["modality_config"]
    digest = hashlib.sha256(config.read_bytes()).hexdigest()
    launch = _launch(name)
    assert launch["embodiment_tag"] == "NEW_EMBODIMENT"
    assert launch["modality_config"]["sha256"] == digest
    assert launch["flags"]["modality_config_path"] == launch["modality_config"]["path"]
    # The card says which config trained it (its hash), and the published model serves under its own tag.
    card = _card(recipe["hub"]["repo_id"])
    assert recipe["modality_config"] in card and digest in card, card[:2000]
    served = _serving()
    assert served["view"]["revision"] == _hub_sha(recipe["hub"]["repo_id"])
    cmd = served["cmd"]
    assert cmd[cmd.index("--embodiment-tag") + 1] == "NEW_EMBODIMENT", cmd
    statistics = json.loads(
        (
            PATHS.host_data("lab-spark") / "checkpoints" / served["view"]["revision"] / "statistics.json"
        ).read_text()
    )
    result = probe_server(
        "127.0.0.1", 5555, embodiment="new_embodiment", statistics=statistics,
        request_timeout_s=10.0, startup_timeout_s=60.0,
    )  # fmt: skip
    assert result["ok"], f"NEW_EMBODIMENT probe failed: {result}"
    # The UNITREE_G1 probe is not what this server answers to.
    wrong = probe_server("127.0.0.1", 5555, request_timeout_s=10.0, startup_timeout_s=10.0)
    assert not wrong["ok"], wrong


def test_warm_start_from_the_lab_hub_records_its_source(shapes_lab: dict[str, Any]) -> None:
    name = "lab-warm-start"
    recipe = _recipes()[name]
    source = recipe["warm_start_from"]["repo_id"]
    if not (checks.workspace() / "runs" / "lab-demo" / "launch.json").exists():
        _site("lab-demo")  # run alone: the source is lab-demo's published model
    source_sha = _hub_sha(source)
    _site(name)
    launch = _launch(name)
    assert launch["warm_start"] == {"repo_id": source, "revision": "main", "sha": source_sha}, launch
    # Trained from the fetched source, into this recipe's own output directory.
    assert launch["flags"]["base_model_path"].endswith(f"/{source_sha}")
    assert launch["flags"]["output_dir"].endswith(f"/checkpoints/{name}")
    checks.check_train(name, recipe, ["lab-ws"])
    card = _card(recipe["hub"]["repo_id"])
    assert source in card and source_sha in card, card[:2000]
    assert _serving()["view"]["revision"] == _hub_sha(recipe["hub"]["repo_id"])
