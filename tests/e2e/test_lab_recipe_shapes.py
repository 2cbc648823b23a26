"""The three recipe shapes beyond lab-demo, each through the whole site.yml on the lab (issue 15): a
GR00T-layout sub-folder of a Hub dataset repo adopted without conversion, NEW_EMBODIMENT with its own
modality config served and probed as such, and a warm start from a model the lab Hub holds.

Only lab-teleop deploys: its shape is what makes its deploy different (the server runs NEW_EMBODIMENT, the
probe builds its observation from the served config and statistics.json). lab-loco-manip and lab-warm-start
export the same UNITREE_G1 model layout as lab-demo (the sub-folder and the warm start change only where
the data and the base model come from), so their run is site.yml without the deploy play; that a deploy
serves the recipe's newest published commit and answers the probe is asserted for lab-demo
(test_lab_pipeline: check_deploy), for lab-cli (test_operator_cli: deployed_revision == the published SHA,
the probe answers), for lab-teleop here, and the switch between revisions in
tests/integration/deploy/test_deploy.py. The tests after this module deploy their own recipe (lab-cli).
"""

from __future__ import annotations

import hashlib
import json
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


# site.yml up to and including publish: the deploy play's role is skipped.
NO_DEPLOY = ("--skip-tags", "role::groot_server")


def _site(recipe: str, playbook: str = "site.yml", *, deploy: bool = True) -> PlaybookRun:
    extra = ["-e", "wait=true"] if playbook in ("site.yml", "train.yml") else []
    extra += [] if deploy else list(NO_DEPLOY)
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


def _server_view() -> dict[str, Any]:
    """groot-server's container facts (its start time included), whether it exists or not."""
    from groot_ops.deploy import container_view
    from groot_ops.lab.docker import inspect

    return container_view(inspect("container", "groot-server"))


def _serving() -> dict[str, Any]:
    from groot_ops.deploy import container_view
    from groot_ops.lab.docker import inspect

    info = inspect("container", "groot-server")
    assert info is not None and info["State"]["Running"], "groot-server is not running"
    return {"view": container_view(info), "cmd": info["Config"]["Cmd"]}


def test_groot_layout_subfolder_is_adopted_trained_and_published(lab: dict[str, Any]) -> None:
    name = "lab-loco-manip"
    recipe = _recipes()[name]
    serving_before = _server_view()
    _site(name, deploy=False)
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
    checks.check_datasets(name, recipe, lab["hub"]["datasets"])
    checks.check_train(name, recipe, ["lab-ws"])
    checks.check_publish(recipe, _token())
    # The deploy play was skipped: the server is as it was.
    assert _server_view() == serving_before


def test_new_embodiment_trains_with_its_config_and_serves_as_new_embodiment(
    lab: dict[str, Any],
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


def test_warm_start_from_the_lab_hub_records_its_source(lab: dict[str, Any]) -> None:
    name = "lab-warm-start"
    recipe = _recipes()[name]
    source = recipe["warm_start_from"]["repo_id"]
    if not (checks.workspace() / "runs" / "lab-demo" / "launch.json").exists():
        _site("lab-demo")  # run alone: the source is lab-demo's published model
    source_sha = _hub_sha(source)
    _site(name, deploy=False)
    launch = _launch(name)
    assert launch["warm_start"] == {"repo_id": source, "revision": "main", "sha": source_sha}, launch
    # Trained from the fetched source, into this recipe's own output directory.
    assert launch["flags"]["base_model_path"].endswith(f"/{source_sha}")
    assert launch["flags"]["output_dir"].endswith(f"/checkpoints/{name}")
    checks.check_train(name, recipe, ["lab-ws"])
    card = _card(recipe["hub"]["repo_id"])
    assert source in card and source_sha in card, card[:2000]
    checks.check_publish(recipe, _token())
