"""playbooks/publish.yml end to end on localhost: real export, model card and upload to the test Hub.

The card's provenance comes from the run's launch record only; a private recipe never publishes into a
public repo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.ansible_helpers import AnsibleResult, run_playbook, write_local_inventory
from tests.checkpoint_factory import write_checkpoint
from tests.hub_server.fixtures import HubHandle

HOST = "trainer-1"
MODEL_REPO = "groot/it-model"
DATASET_SHA = "a" * 40  # the commit the training was launched on
MOVED_SHA = "b" * 40  # the branch has moved since: the datasets stage now records this one
LAUNCH_COMMIT = "1" * 40  # the groot-ops commit the supervisor recorded when it launched the training
ISAAC_COMMIT = "3" * 40
DATA_FINGERPRINT = "d" * 64
STATS_FINGERPRINT = "e" * 64


def launch_record(workspace: Path) -> dict:
    """runs/<recipe>/launch.json as the supervisor writes it when it launches a run."""
    return {
        "recipe": "it-recipe",
        "launched_at": "2026-11-30T08:00:00Z",
        "groot_ops_commit": LAUNCH_COMMIT,
        "groot_ops_dirty": False,
        "isaac_groot_commit": ISAAC_COMMIT,
        "base_model": {"id": "nvidia/GR00T-N1.6-3B", "revision": "main"},
        "embodiment_tag": "UNITREE_G1",
        "datasets": [
            {
                "name": "fold_towel",
                "repo_id": "unitreerobotics/G1_Dex1_Fold_Towel",
                "revision": "main",
                "sha": DATASET_SHA,
            },
        ],
        "data_fingerprint": DATA_FINGERPRINT,
        "stats_fingerprint": STATS_FINGERPRINT,
        "flags": {
            "dataset_path": str(workspace / "datasets/groot/fold_towel"),
            "max_steps": 8,
            "global_batch_size": 4,
        },
        "modality_config": None,
    }


@pytest.fixture
def publish_setup(tmp_path: Path, hub: HubHandle) -> dict:
    workspace = tmp_path / "workspace"
    output = workspace / "checkpoints" / "it-recipe"
    ckpt = write_checkpoint(output, 4)
    (ckpt / "trainer_state.json").write_text(
        json.dumps({"global_step": 4, "log_history": [{"step": 2, "loss": 0.9}, {"step": 4, "loss": 0.5}]})
    )
    write_checkpoint(output, 8, complete=False)  # newest, but half-written: must not be published
    run_dir = workspace / "runs" / "it-recipe"
    run_dir.mkdir(parents=True)
    (run_dir / "launch.json").write_text(json.dumps(launch_record(workspace)))
    # What the datasets stage records *now*, after the branch moved: publish must not read it.
    provenance = workspace / "datasets" / "provenance" / "it-recipe.json"
    provenance.parent.mkdir(parents=True)
    provenance.write_text(json.dumps({"recipe": "it-recipe", "datasets": [
        {"name": "fold_towel", "repo_id": "unitreerobotics/G1_Dex1_Fold_Towel", "revision": "main",
         "sha": MOVED_SHA}]}))  # fmt: skip
    # The recipe as it is at publish time: edited since the launch (more steps); the card keeps the launch's.
    recipe = {
        "datasets": [
            {"name": "fold_towel", "repo_id": "unitreerobotics/G1_Dex1_Fold_Towel", "revision": "main"}
        ],
        "base_model": "nvidia/GR00T-N1.6-3B",
        "embodiment_tag": "UNITREE_G1",
        "training": {"max_steps": 123456, "save_steps": 4, "global_batch_size": 4},
        "hub": {"repo_id": MODEL_REPO, "private": True},
    }
    extra = tmp_path / "vars.yml"
    extra.write_text(
        yaml.safe_dump(
            {
                "groot_recipes": {"it-recipe": recipe},
                "groot_recipe": "{{ groot_recipes[recipe] }}",
                "groot_workspace": str(workspace),
                "groot_hf_endpoint": hub.url,
                "vault_hf_token": hub.token,
                "groot_hf_token": "{{ vault_hf_token }}",
            }
        )
    )
    return {
        "hub": hub,
        "inventory": write_local_inventory(tmp_path / "hosts.yml", {"trainers": [HOST]}),
        "vars": extra,
        "workspace": workspace,
        "run_dir": run_dir,
    }


def _run(setup: dict, *, check: bool = False, extra: dict[str, object] | None = None) -> AnsibleResult:
    return run_playbook(
        "playbooks/publish.yml",
        inventory=setup["inventory"],
        extra_vars={"recipe": "it-recipe", **(extra or {})},
        extra_vars_files=[setup["vars"]],
        check=check,
        diff=check,
        timeout=300,
    )


def test_publish_exports_cards_uploads_and_tags_once(publish_setup: dict) -> None:
    from huggingface_hub import HfApi

    hub: HubHandle = publish_setup["hub"]
    api = HfApi(endpoint=hub.url, token=hub.token)

    planned = _run(publish_setup, check=True)
    assert planned.rc == 0, planned.describe()
    assert "would upload" in planned.stdout and "step-4" in planned.stdout
    assert not (publish_setup["workspace"] / "exports").exists()
    assert not api.repo_exists(MODEL_REPO)

    first = _run(publish_setup)
    assert first.rc == 0, first.describe()
    assert hub.token not in first.output
    files = set(api.list_repo_files(MODEL_REPO))
    assert {"config.json", "model.safetensors.index.json", "statistics.json", "README.md"} <= files
    assert not {"optimizer.pt", "rng_state.pth", "scheduler.pt", "trainer_state.json"} & files
    assert api.model_info(MODEL_REPO).private is True
    tags = [t.name for t in api.list_repo_refs(MODEL_REPO).tags]
    assert tags == ["step-4"]
    assert "uploaded" in first.stdout and "files, commit" in first.stdout
    card = (publish_setup["workspace"] / "exports/it-recipe/step-4/README.md").read_text()
    # Everything the card says about the training comes from the launch record.
    for needle in (DATASET_SHA, ISAAC_COMMIT, LAUNCH_COMMIT, DATA_FINGERPRINT, STATS_FINGERPRINT, "0.5"):
        assert needle in card, needle
    assert MOVED_SHA not in card and "123456" not in card
    assert '"max_steps": 8' in card
    assert str(publish_setup["workspace"]) not in card

    hub.server.clear_requests()
    second = _run(publish_setup)
    assert second.rc == 0, second.describe()
    assert second.changed(HOST) == 0, second.describe()
    assert "up to date at commit" in second.stdout
    assert hub.server.recorded("POST", r"/commit/") == []
    assert api.list_repo_refs(MODEL_REPO).tags[0].name == "step-4"


def test_a_run_without_a_launch_record_fails_naming_the_file(publish_setup: dict) -> None:
    """No silent fallback to the recipe or today's dataset provenance: the card would be a guess."""
    record = publish_setup["run_dir"] / "launch.json"
    record.unlink()
    result = _run(publish_setup)
    assert result.rc != 0 and result.failed(HOST) == 1, result.describe()
    flat = " ".join(result.stdout.split())
    assert "no launch record" in flat and str(record) in flat, result.describe()
    assert "write the record by hand" in flat
    assert not (publish_setup["workspace"] / "exports").exists()
    # A dry run before training says what is still to come, and passes.
    dry = _run(publish_setup, check=True)
    assert dry.rc == 0, dry.describe()
    assert "nothing to publish from" in " ".join(dry.stdout.split())

    # A record of another recipe is refused too.
    record.write_text(json.dumps({**launch_record(publish_setup["workspace"]), "recipe": "other"}))
    other = _run(publish_setup)
    assert other.rc != 0 and "launch record is of recipe 'other'" in other.stdout, other.describe()


def test_an_existing_public_repo_is_refused_unless_the_recipe_allows_public(publish_setup: dict) -> None:
    from huggingface_hub import HfApi

    hub: HubHandle = publish_setup["hub"]
    api = HfApi(endpoint=hub.url, token=hub.token)
    api.create_repo(MODEL_REPO, private=False)
    refused = _run(publish_setup)
    assert refused.rc != 0, refused.describe()
    flat = " ".join(refused.stdout.split())
    assert f"Hub repo {MODEL_REPO} exists and is public, but the recipe asks for a private repo" in flat, flat
    assert hub.token not in refused.output
    assert hub.server.recorded("POST", r"/commit/") == []
    dry = _run(publish_setup, check=True)
    assert dry.rc != 0 and "exists and is public" in dry.stdout, dry.describe()

    data = yaml.safe_load(publish_setup["vars"].read_text())
    data["groot_recipes"]["it-recipe"]["hub"]["private"] = False
    publish_setup["vars"].write_text(yaml.safe_dump(data))
    allowed = _run(publish_setup)
    assert allowed.rc == 0, allowed.describe()
    assert api.model_info(MODEL_REPO).private is False


def test_publish_without_token_fails_before_touching_anything(publish_setup: dict) -> None:
    data = yaml.safe_load(publish_setup["vars"].read_text())
    data["vault_hf_token"] = ""
    publish_setup["vars"].write_text(yaml.safe_dump(data))
    result = _run(publish_setup)
    assert result.rc != 0
    assert "No Hub token: set vault_hf_token" in result.stdout, result.describe()
    assert not (publish_setup["workspace"] / "exports").exists()


def test_publish_without_a_complete_checkpoint_fails_naming_the_output_dir(publish_setup: dict) -> None:
    output = publish_setup["workspace"] / "checkpoints" / "it-recipe"
    (output / "checkpoint-4" / "trainer_state.json").unlink()  # now no checkpoint-N in it is complete
    result = _run(publish_setup)
    assert result.rc != 0 and result.failed(HOST) == 1, result.describe()
    flat = " ".join(result.stdout.split())
    assert f"no complete (servable) checkpoint-N directory to export (file {output})" in flat, (
        result.describe()
    )
    assert "NoneType" not in result.output, result.describe()
    assert publish_setup["hub"].token not in result.output
    assert not (publish_setup["workspace"] / "exports").exists()
    # A dry run (groot-ops plan before training) says the checkpoint is still to come, and passes.
    dry = _run(publish_setup, check=True)
    assert dry.rc == 0, dry.describe()
    flat = " ".join(dry.stdout.split())
    assert f"nothing to publish from {output} yet" in flat and "training writes" in flat, dry.describe()
    assert not (publish_setup["workspace"] / "exports").exists()
