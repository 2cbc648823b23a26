"""playbooks/publish.yml end to end on localhost: real export, model card and upload to the test Hub."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.ansible_helpers import REPO_ROOT, AnsibleResult, run_playbook, write_local_inventory
from tests.checkpoint_factory import write_checkpoint
from tests.hub_server.fixtures import HubHandle

HOST = "trainer-1"
MODEL_REPO = "groot/it-model"
DATASET_SHA = "a" * 40
LAUNCH_COMMIT = "1" * 40  # the groot-ops commit the finetune role recorded when it launched the training


def _git_commit(repo: Path, message: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.invalid", "GIT_COMMITTER_NAME": "t"}
    env |= {"GIT_COMMITTER_EMAIL": "t@t.invalid", "PATH": "/usr/bin:/bin"}
    if not (repo / ".git").exists():
        subprocess.run(["git", "init", "-q", str(repo)], check=True, env=env)
    subprocess.run(
        ["git", "-C", str(repo), "commit", "-q", "--allow-empty", "-m", message], check=True, env=env
    )
    return subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def publish_setup(tmp_path: Path, hub: HubHandle) -> dict:
    workspace = tmp_path / "workspace"
    output = workspace / "checkpoints" / "it-recipe"
    ckpt = write_checkpoint(output, 4)
    (ckpt / "trainer_state.json").write_text(
        json.dumps({"global_step": 4, "log_history": [{"step": 2, "loss": 0.9}, {"step": 4, "loss": 0.5}]})
    )
    write_checkpoint(output, 8, complete=False)  # newest, but half-written: must not be published
    # The run directory as the supervisor leaves it: the launch's provenance next to the command.
    run_dir = workspace / "runs" / "it-recipe"
    run_dir.mkdir(parents=True)
    (run_dir / "cmdline.json").write_text(
        json.dumps(
            {
                "argv": ["python", "-m", "torch.distributed.run"],
                "command": "python -m torch.distributed.run",
                "secret_env": [],
                "groot_ops_commit": LAUNCH_COMMIT,
                "groot_ops_dirty": False,
            }
        )
    )
    provenance = workspace / "datasets" / "provenance" / "it-recipe.json"
    provenance.parent.mkdir(parents=True)
    provenance.write_text(
        json.dumps(
            {
                "recipe": "it-recipe",
                "training_dataset": str(workspace / "datasets/groot/fold_towel"),
                "datasets": [
                    {
                        "name": "fold_towel",
                        "repo_id": "unitreerobotics/G1_Dex1_Fold_Towel",
                        "revision": "main",
                        "sha": DATASET_SHA,
                        "converted": str(workspace / "datasets/groot/fold_towel"),
                    }
                ],
            }
        )
    )
    isaac = tmp_path / "isaac"
    isaac_commit = subprocess.run(
        ["bash", str(REPO_ROOT / "tests/standins/publish_repo.sh"), str(isaac)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]
    # This repository's commit as the controller sees it; a repo of its own keeps it still during the test.
    controller = tmp_path / "controller-repo"
    controller.mkdir()
    controller_commit = _git_commit(controller, "first")
    recipe = {
        "datasets": [
            {"name": "fold_towel", "repo_id": "unitreerobotics/G1_Dex1_Fold_Towel", "revision": "main"}
        ],
        "base_model": "nvidia/GR00T-N1.6-3B",
        "embodiment_tag": "UNITREE_G1",
        "training": {"max_steps": 8, "save_steps": 4, "global_batch_size": 4},
        "hub": {"repo_id": MODEL_REPO, "private": True},
    }
    extra = tmp_path / "vars.yml"
    extra.write_text(
        yaml.safe_dump(
            {
                "groot_recipes": {"it-recipe": recipe},
                "groot_recipe": "{{ groot_recipes[recipe] }}",
                "groot_workspace": str(workspace),
                "groot_isaac_groot_dir": str(isaac),
                "groot_hf_endpoint": hub.url,
                "vault_hf_token": hub.token,
                "groot_hf_token": "{{ vault_hf_token }}",
                "publish_controller_repo": str(controller),
            }
        )
    )
    return {
        "hub": hub,
        "inventory": write_local_inventory(tmp_path / "hosts.yml", {"trainers": [HOST]}),
        "vars": extra,
        "workspace": workspace,
        "run_dir": run_dir,
        "isaac_commit": isaac_commit,
        "controller": controller,
        "controller_commit": controller_commit,
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
    card = (publish_setup["workspace"] / "exports/it-recipe/step-4/README.md").read_text()
    # The groot-ops commit is the one recorded when the training was launched, not the controller's now.
    for needle in (DATASET_SHA, publish_setup["isaac_commit"], LAUNCH_COMMIT, "0.5"):
        assert needle in card
    assert publish_setup["controller_commit"] not in card
    assert "records no groot-ops commit" not in first.output
    assert str(publish_setup["workspace"]) not in card

    hub.server.clear_requests()
    second = _run(publish_setup)
    assert second.rc == 0, second.describe()
    assert second.changed(HOST) == 0, second.describe()
    assert hub.server.recorded("POST", r"/commit/") == []
    assert api.list_repo_refs(MODEL_REPO).tags[0].name == "step-4"

    # A new commit of this repository on the controller does not touch what the model was made by:
    # no new export, upload, commit or tag (no provenance cascade).
    new_commit = _git_commit(publish_setup["controller"], "second")
    hub.server.clear_requests()
    third = _run(publish_setup, extra={"publish_controller_commit": "2" * 40})
    assert third.rc == 0, third.describe()
    assert third.changed(HOST) == 0, third.describe()
    assert hub.server.recorded("POST", r"/commit/") == []
    readme = Path(api.hf_hub_download(MODEL_REPO, "README.md", revision="main")).read_text()
    assert LAUNCH_COMMIT in readme and new_commit not in readme and "2" * 40 not in readme


def test_publish_falls_back_to_the_controller_commit_with_a_warning(publish_setup: dict) -> None:
    """A run launched before the commit was recorded: the card takes the controller's commit."""
    (publish_setup["run_dir"] / "cmdline.json").unlink()
    result = _run(publish_setup)
    assert result.rc == 0, result.describe()
    assert "records no groot-ops commit" in result.stdout, result.describe()
    card = (publish_setup["workspace"] / "exports/it-recipe/step-4/README.md").read_text()
    assert publish_setup["controller_commit"] in card and LAUNCH_COMMIT not in card


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
    assert f"No complete checkpoint-N in {output}" in result.stdout, result.describe()
    assert "train first" in result.stdout
    assert "NoneType" not in result.output, result.describe()
    assert publish_setup["hub"].token not in result.output
    assert not (publish_setup["workspace"] / "exports").exists()
    # A dry run (groot-ops plan before training) says the checkpoint is still to come, and passes.
    dry = _run(publish_setup, check=True)
    assert dry.rc == 0, dry.describe()
    flat = " ".join(dry.stdout.split())  # the YAML callback folds long messages
    assert f"no complete checkpoint in {output} yet: training writes it" in flat, dry.describe()
    assert not (publish_setup["workspace"] / "exports").exists()
