"""playbooks/train.yml and status.yml with ansible-playbook on localhost (a ``trainers`` host)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from groot_ops.train import control as supervisor
from tests.ansible_helpers import REPO_ROOT, AnsibleResult, run_playbook, write_local_inventory
from tests.integration.train.conftest import STANDIN, Runs

pytestmark = pytest.mark.timeout(420)
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

    def vars_file(self, **recipe_over: Any) -> Path:
        recipe: dict[str, Any] = {
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
            **recipe_over,
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

    def run(
        self,
        playbook: str,
        *,
        check: bool = False,
        wait: bool = False,
        extra_vars: dict[str, object] | None = None,
        **recipe_over: Any,
    ) -> AnsibleResult:
        extra: dict[str, object] = {"recipe": "it-train", **(extra_vars or {})}
        if wait:
            extra["wait"] = True
        return run_playbook(
            playbook,
            inventory=self.inventory,
            extra_vars=extra,
            extra_vars_files=[self.vars_file(**recipe_over)],
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
    # The controller's groot-ops commit at launch is the run's provenance (read by the publish role).
    head = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    cmdline = json.loads((runs_root / "it-train" / "cmdline.json").read_text())
    assert cmdline["groot_ops_commit"] == status["groot_ops_commit"] == head
    assert isinstance(cmdline["groot_ops_dirty"], bool)

    # A new groot-ops commit on the controller does not make the finished run look changed.
    second = stage.run("playbooks/train.yml", extra_vars={"finetune_groot_ops_commit": "f" * 40})
    assert second.rc == 0, second.describe()
    assert second.changed() == 0, second.describe()
    assert "noop" in second.output
    assert json.loads((runs_root / "it-train" / "cmdline.json").read_text())["groot_ops_commit"] == head

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


def test_refused_while_another_recipe_trains_then_config_error_fails_the_wait(
    tmp_path: Path, groot_dataset: Path
) -> None:
    stage = TrainStage(tmp_path, groot_dataset)
    other = Runs(stage.workspace, groot_dataset).spec(
        "other-recipe", env={"GROOT_STANDIN_STEP_SLEEP_S": "0.5"}, flags={"max_steps": 400}
    )
    supervisor.start(other)
    try:
        refused = stage.run("playbooks/train.yml")
        assert refused.rc != 0
        assert "refused: recipe other-recipe is training on this workstation" in refused.output
    finally:
        supervisor.stop(other["runs_root"], "other-recipe")

    # Refused before anything is launched, naming the recipe and the key.
    bad = stage.run("playbooks/train.yml", wait=True, embodiment_tag="unitree_g1")
    assert bad.rc != 0
    assert (
        "recipe it-train: embodiment_tag 'unitree_g1' is not an Isaac-GR00T n1.6.1 embodiment" in bad.output
    )
    assert not (stage.workspace / "runs" / "it-train").exists()
    typed = stage.run("playbooks/train.yml", extra_vars={"finetune_flags_override": {"tune_llm": "nope"}})
    assert typed.rc != 0
    assert "recipe it-train: training flag tune_llm must be a boolean" in typed.output


def test_two_trainers_hosts_make_one_two_node_run(tmp_path: Path, groot_dataset: Path) -> None:
    stage = TrainStage(tmp_path, groot_dataset)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Both trainers live on one engine host: the rendezvous address defaults to that host's address.
    base = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "groot_engine_host": "engine-1",
    }
    node1 = stage.workspace / "node1"

    def inventory(**node1_vars: str) -> None:
        # Each node has its own run directory (and lock); the checkpoint directory is what must be shared.
        hosts = {
            "trainer-1": base,
            "trainer-2": {**base, "finetune_runs_root": str(node1 / "runs"), **node1_vars},
        }
        stage.inventory.write_text(
            yaml.safe_dump(
                {
                    "all": {
                        "vars": {"finetune_rdzv_port": port},
                        "children": {
                            "trainers": {"hosts": hosts},
                            "workstations": {"hosts": {"engine-1": {"ansible_host": "127.0.0.1"}}},
                        },
                    }
                }
            )
        )

    # Node 2 with a checkpoint directory of its own: refused before launch (under ZeRO-2 only global rank 0
    # writes trainer_state.json and rotates, so node 2 could never resume and would fill its disk).
    inventory(finetune_output_dir=str(node1 / "checkpoints" / "it-train"))
    try:
        refused = stage.run("playbooks/train.yml", wait=True)
    finally:
        # Should a node have launched anyway, it would wait at the rendezvous: never leave it behind.
        for root in (stage.workspace / "runs", node1 / "runs"):
            supervisor.stop(root, "it-train")
    assert refused.rc != 0
    assert (
        "training node trainer-2 does not share the checkpoint directory with the first node trainer-1"
        in (refused.output)
    )
    assert not (stage.workspace / "runs" / "it-train").exists() and not (node1 / "runs" / "it-train").exists()

    inventory()
    result = stage.run("playbooks/train.yml", wait=True)
    assert result.rc == 0, result.describe()
    assert "it-train on trainer-1: finished at step 20/20" in result.output, result.describe()
    assert "it-train on trainer-2: finished" in result.output
    argv0 = json.loads((stage.workspace / "runs" / "it-train" / "cmdline.json").read_text())["argv"]
    argv1 = json.loads((node1 / "runs" / "it-train" / "cmdline.json").read_text())["argv"]
    for argv, rank in ((argv0, 0), (argv1, 1)):
        assert "--nnodes=2" in argv and f"--node_rank={rank}" in argv
        assert "--master_addr=127.0.0.1" in argv and f"--master_port={port}" in argv
        assert argv[argv.index("--num_gpus") + 1] == "2"
    # One checkpoint directory for both nodes: global rank 0's trainer state and every rank's ZeRO shards.
    ckpt = stage.workspace / "checkpoints" / "it-train" / "checkpoint-20"
    assert (ckpt / "trainer_state.json").is_file()
    assert len(list((ckpt / "global_step20").glob("*optim_states.pt"))) == 2


def test_new_embodiment_recipe_copies_its_modality_config_and_refuses_a_mismatch(
    tmp_path: Path, groot_dataset: Path
) -> None:
    import hashlib

    from tests.modality_cases import write_config

    configs = tmp_path / "modality_configs"
    good = write_config(configs, "match")
    bad = write_config(configs, "missing_state")
    shape = {"embodiment_tag": "NEW_EMBODIMENT", "modality_config": good.name}
    stage = TrainStage(tmp_path / "good", groot_dataset)
    dirs = {"groot_modality_configs_dir": str(configs)}
    copied = stage.workspace / "modality_configs" / "it-train" / good.name

    check = stage.run("playbooks/train.yml", check=True, extra_vars=dirs, **shape)
    assert check.rc == 0, check.describe()
    flat = " ".join(check.output.split())  # the diff wraps the command line
    assert f"--modality_config_path {copied}" in flat and not copied.exists()

    first = stage.run("playbooks/train.yml", wait=True, extra_vars=dirs, **shape)
    assert first.rc == 0, first.describe()
    assert copied.read_bytes() == good.read_bytes()
    record = json.loads((stage.workspace / "runs" / "it-train" / "launch.json").read_text())
    assert record["embodiment_tag"] == "NEW_EMBODIMENT"
    assert record["modality_config"] == {
        "path": str(copied),
        "sha256": hashlib.sha256(good.read_bytes()).hexdigest(),
    }
    again = stage.run("playbooks/train.yml", extra_vars=dirs, **shape)
    assert again.rc == 0 and again.changed() == 0, again.describe()

    # A config naming a key the dataset lacks: one line naming file, key and dataset; nothing launched.
    other = TrainStage(tmp_path / "bad", groot_dataset)
    refused = other.run("playbooks/train.yml", extra_vars=dirs, **{**shape, "modality_config": bad.name})
    assert refused.rc != 0
    assert (
        f"recipe it-train: modality config {bad.name}: state key 'neck' not in dataset towel"
        in refused.output
    )
    assert not (other.workspace / "runs" / "it-train" / "launch.json").exists()
    # A file that is not next to the recipes is refused by the preamble, before any host is touched.
    missing = other.run("playbooks/train.yml", extra_vars=dirs, **{**shape, "modality_config": "nope.py"})
    assert missing.rc != 0 and "modality_config nope.py must be a file name" in missing.output
