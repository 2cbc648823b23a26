"""playbooks/train.yml with warm_start_from a model on the test Hub (recipe shape fold-towel-full-phase2)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from groot_ops.hub.modelcard import render_model_card
from tests.hub_server.fixtures import HubHandle, _start
from tests.integration.train.test_train_playbook import HOST, TrainStage

pytestmark = pytest.mark.timeout(420)
TOWEL = "unitreerobotics/G1_Dex1_Fold_Towel"


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubHandle]:
    """A fresh test Hub (tests/hub_server), as in the hub and ansible integration tests."""
    yield from _start(tmp_path, monkeypatch, xet=False)


def _model(root: Path, trained_on: str | None) -> Path:
    root.mkdir(parents=True)
    (root / "model.safetensors").write_bytes(os.urandom(2048))
    (root / "config.json").write_text("{}")
    if trained_on:
        card = render_model_card(
            {
                "recipe": "phase1",
                "datasets": [{"name": "towel", "repo_id": trained_on, "revision": "main", "sha": "a" * 40}],
                "isaac_groot": {"repo": "NVIDIA/Isaac-GR00T", "commit": "c" * 40},
                "groot_ops_commit": "d" * 40,
                "base_model": "nvidia/GR00T-N1.6-3B",
                "embodiment_tag": "UNITREE_G1",
                "training_flags": {"max_steps": 10},
                "steps": 10,
                "files": [{"path": "model.safetensors", "size": 2048}],
            }
        )
        (root / "README.md").write_text(card)
    return root


class HubStage(TrainStage):
    def __init__(self, tmp_path: Path, dataset: Path, hub: HubHandle) -> None:
        super().__init__(tmp_path, dataset)
        self.hub = hub

    def vars_file(self, **recipe_over):  # type: ignore[no-untyped-def]
        path = super().vars_file(**recipe_over)
        data = yaml.safe_load(path.read_text())
        data |= {"groot_hf_endpoint": self.hub.url, "groot_hf_token": self.hub.token}
        path.write_text(yaml.safe_dump(data))
        return path


def test_refused_source_fails_before_launch_then_a_matching_one_launches_with_its_sha(
    tmp_path: Path, groot_dataset: Path, hub: HubHandle
) -> None:
    stage = HubStage(tmp_path, groot_dataset, hub)
    hub.seed("lab/other", _model(tmp_path / "other", "nvidia/SomethingElse"), repo_type="model")
    refused = stage.run("playbooks/train.yml", warm_start_from={"repo_id": "lab/other", "revision": "main"})
    assert refused.rc != 0
    assert "warm start refused: lab/other@" in refused.output and "accept_other_data: true" in refused.output
    assert not (stage.workspace / "runs" / "it-train").exists()
    assert not list(stage.workspace.rglob("*.safetensors")), "a refused source's weights were downloaded"

    sha = hub.seed("lab/phase1", _model(tmp_path / "phase1", TOWEL), repo_type="model")
    source = {"repo_id": "lab/phase1", "revision": "main"}
    planned = stage.run("playbooks/train.yml", check=True, warm_start_from=source)
    assert planned.rc == 0, planned.describe()
    text = " ".join(planned.output.split())  # the callback wraps long messages
    assert f"warm start from lab/phase1@main -> {sha} (card matches: same dataset repos" in text, text
    model_dir = f"{stage.workspace}/models/warm-start/lab--phase1/{sha}"
    assert re.search(rf"; would fetch 3 files, [\d.]+ KiB into {re.escape(model_dir)}", text), text[-3000:]
    assert not (stage.workspace / "runs" / "it-train").exists()

    first = stage.run("playbooks/train.yml", wait=True, warm_start_from=source)
    assert first.rc == 0, first.describe()
    run_dir = stage.workspace / "runs" / "it-train"
    record = json.loads((run_dir / "launch.json").read_text())
    assert record["warm_start"] == {**source, "sha": sha}
    model = stage.workspace / "models" / "warm-start" / "lab--phase1" / sha
    assert record["flags"]["base_model_path"] == str(model) and (model / "model.safetensors").is_file()

    again = stage.run("playbooks/train.yml", warm_start_from=source)
    assert again.rc == 0 and again.changed(HOST) == 0, again.describe()


def test_plan_before_provision_decides_the_warm_start_from_the_controller(
    tmp_path: Path, groot_dataset: Path, hub: HubHandle
) -> None:
    # The container gate's verdict on a machine provision has not reached (what groot_container_gate
    # sets for a missing container under --check): the finetune role decides from the controller, with
    # the controller's Hub address (the host's is unreachable here), and ends the host before the launch.
    stage = HubStage(tmp_path, groot_dataset, hub)
    pending = {"container_gate_pending": True, "groot_hf_endpoint": "http://127.0.0.1:9"}
    pending["groot_hf_controller_endpoint"] = hub.url
    sha = hub.seed("lab/phase1", _model(tmp_path / "phase1", TOWEL), repo_type="model")
    planned = stage.run(
        "playbooks/train.yml",
        check=True,
        extra_vars=pending,
        warm_start_from={"repo_id": "lab/phase1", "revision": "main"},
    )
    assert planned.rc == 0, planned.describe()
    text = " ".join(planned.output.split())  # the callback wraps long messages
    assert f"it-train: warm start from lab/phase1@main -> {sha} (card matches: same dataset repos" in text, (
        text
    )
    assert f"lab--phase1/{sha} once provision created the training container" in text
    assert "launch_finetune.py" not in planned.output, "the plan went on to the launch on a missing host"
    assert not (stage.workspace / "models").exists() and not (stage.workspace / "runs").exists()
    assert not hub.server.recorded("GET", ".safetensors")

    # Bad input fails the plan, naming the recipe and the repo, before any GPU time.
    hub.seed("lab/other", _model(tmp_path / "other", "nvidia/SomethingElse"), repo_type="model")
    for source, error in (
        ({"repo_id": "lab/other", "revision": "main"}, "Recipe it-train: warm start refused: lab/other@"),
        (
            {"repo_id": "lab/phase1", "revision": "no-such-tag"},
            "Recipe it-train: warm_start_from: revision 'no-such-tag' does not exist in model repo "
            "lab/phase1",
        ),
    ):
        bad = stage.run("playbooks/train.yml", check=True, extra_vars=pending, warm_start_from=source)
        assert bad.rc != 0 and error in " ".join(bad.output.split()), bad.output[-4000:]
        assert "launch_finetune.py" not in bad.output

    # No warm start: the host still ends quietly at the same place.
    plain = stage.run("playbooks/train.yml", check=True, extra_vars=pending)
    assert plain.rc == 0 and "launch_finetune.py" not in plain.output, plain.describe()
