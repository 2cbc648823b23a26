"""playbooks/train.yml and status.yml with ansible-playbook on localhost (a ``trainers`` host)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.ansible_helpers import AnsibleResult, run_playbook, write_local_inventory
from tests.integration.train.conftest import STANDIN

pytestmark = pytest.mark.timeout(300)
HOST = "trainer-1"
SECRET = "wandb-s3cret-value-0123"


class TrainStage:
    def __init__(self, tmp_path: Path, dataset: Path) -> None:
        self.tmp = tmp_path
        self.workspace = tmp_path / "workspace"
        (self.workspace / "datasets" / "groot").mkdir(parents=True)
        (self.workspace / "datasets" / "groot" / "towel").symlink_to(dataset)
        self.inventory = write_local_inventory(tmp_path / "hosts.yml", {"trainers": [HOST]})
        self.status_dest = tmp_path / "status"

    def vars_file(self) -> Path:
        recipe = {
            "datasets": [
                {"name": "towel", "repo_id": "unitreerobotics/G1_Dex1_Fold_Towel", "revision": "main"}
            ],
            "base_model": "nvidia/GR00T-N1.6-3B",
            "embodiment_tag": "UNITREE_G1",
            "gpus_per_node": 1,
            "training": {
                "max_steps": 20,
                "save_steps": 10,
                "save_total_limit": 2,
                "global_batch_size": 4,
                "dataloader_num_workers": 0,
                "use_wandb": False,
            },
            "hub": {"repo_id": "test/model", "private": True},
        }
        data = {
            "groot_recipes": {"it-train": recipe},
            "groot_recipe": "{{ groot_recipes[recipe] }}",
            "groot_workspace": str(self.workspace),
            "groot_isaac_groot_dir": str(STANDIN),
            "finetune_env": {
                "HF_HOME": str(self.workspace / "hf-cache"),
                "GROOT_STANDIN_STEP_SLEEP_S": "0.1",
            },
            "finetune_wait_delay": 1,
            "finetune_wait_retries": 120,
            "finetune_status_dest": str(self.status_dest),
            "vault_wandb_api_key": SECRET,
        }
        path = self.tmp / "vars.yml"
        path.write_text(yaml.safe_dump(data))
        return path

    def run(self, playbook: str, *, check: bool = False, wait: bool = False) -> AnsibleResult:
        extra: dict[str, object] = {"recipe": "it-train"}
        if wait:
            extra["wait"] = True
        return run_playbook(
            playbook,
            inventory=self.inventory,
            extra_vars=extra,
            extra_vars_files=[self.vars_file()],
            check=check,
            diff=check,
            timeout=240,
        )


def test_train_playbook_check_launch_wait_idempotent_and_status(tmp_path: Path, groot_dataset: Path) -> None:
    stage = TrainStage(tmp_path, groot_dataset)
    runs_root = stage.workspace / "runs"

    check = stage.run("playbooks/train.yml", check=True)
    assert check.rc == 0, check.describe()
    assert "launch_finetune.py" in check.output and "--num_gpus 1" in check.output  # the diff
    assert not (runs_root / "it-train").exists()

    first = stage.run("playbooks/train.yml", wait=True)
    assert first.rc == 0, first.describe()
    assert first.changed(HOST) >= 1
    assert "it-train on trainer-1: finished at step 20/20" in first.output
    status = json.loads((runs_root / "it-train" / "status.json").read_text())
    assert status["state"] == "finished" and status["step"] == 20

    second = stage.run("playbooks/train.yml")
    assert second.rc == 0, second.describe()
    assert second.changed() == 0, second.describe()
    assert "noop" in second.output

    shown = stage.run("playbooks/status.yml")
    assert shown.rc == 0, shown.describe()
    assert "it-train: finished, step 20/20" in shown.output
    assert (stage.status_dest / HOST / "loss.png").read_bytes()[:4] == b"\x89PNG"

    # The vault secret reached the trainer only through the deleted 0600 file: nowhere on disk or in output.
    for result in (check, first, second, shown):
        assert SECRET not in result.output
    run_dir = runs_root / "it-train"
    assert not (run_dir / "secrets.json").exists()
    for path in run_dir.iterdir():
        if path.is_file() and path.suffix != ".png":
            assert SECRET not in path.read_text(errors="replace"), path
    assert json.loads((run_dir / "cmdline.json").read_text())["secret_env"] == ["WANDB_API_KEY"]
