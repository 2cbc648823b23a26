"""`groot-ops render`: both inventories rendered offline, and the checks catching what broke production.

The render runs as the CLI in a subprocess (Ansible reads its configuration once per process). The
negative cases are copies of the production inventory with exactly the defects main had before: the
lab's server image as the role default, and trainers whose interpreter is not the env groot_env builds.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
PROD = REPO / "inventory" / "production"
LAB = REPO / "inventory" / "lab"
COMMIT = "5dc80c4afd726b34faad1d8f7e007a13b34e4c88"
LAB_COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _render(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "groot_ops", "render", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


def _json(*args: str) -> tuple[int, dict[str, Any]]:
    proc = _render(*args, "--json")
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture(scope="module")
def production() -> dict[str, Any]:
    rc, result = _json("hospitality-7ds", "-i", str(PROD))
    assert rc == 0, [c for c in result["checks"] if not c["ok"]]
    return result


@pytest.fixture(scope="module")
def lab() -> dict[str, Any]:
    # The lab's commit is the stand-in's, written by `lab up`; given here instead.
    rc, result = _json("lab-demo-2node", "-i", str(LAB), "-e", f"groot_isaac_groot_commit={LAB_COMMIT}")
    assert rc == 0, [c for c in result["checks"] if not c["ok"]]
    return result


def test_production_checks_all_pass(production: dict[str, Any]) -> None:
    names = {c["name"] for c in production["checks"]}
    assert production["production"] is True and production["ok"] is True
    assert {"no-lab-values:workstation", "no-lab-values:dm-workstation", "no-lab-values:spark"} <= names
    assert {"interpreter:dm-workstation", "gpus:workstation", "gpus:spark", "image-tag:spark"} <= names
    assert {"variables:dm-workstation:groot_env", "variables:spark:groot_server"} <= names


def test_production_trainer_runs_one_env(production: dict[str, Any]) -> None:
    trainer = production["hosts"]["dm-workstation"]
    python = "/opt/conda/envs/unitree_sim_env/bin/python"
    assert trainer["env"]["python"] == trainer["interpreter"] == trainer["finetune_python"] == python
    assert trainer["torchrun"][:3] == [python, "-m", "torch.distributed.run"]
    assert trainer["env"]["python_version"] == "3.10" and trainer["env"]["manager"] == "conda"
    install = trainer["env"]["install_fresh"][-1]["argv"]
    assert install[:5] == ["/opt/conda/envs/unitree_sim_env/bin/uv", "pip", "install", "--python", python]
    assert install[install.index("-e") + 1] == "/workspace/Isaac-GR00T"
    assert "--no-sources" not in install and "--offline" not in install  # upstream's sources decide
    assert trainer["isaac_groot"] == {
        "repo_url": "https://github.com/NVIDIA/Isaac-GR00T.git", "ref": "n1.6.1-release", "commit": COMMIT,
        "dir": "/workspace/Isaac-GR00T",
    }  # fmt: skip
    verify = [" ".join(v["argv"]) for v in trainer["verify"]]
    assert any("gr00t.experiment.experiment gr00t.policy.gr00t_policy torchcodec" in v for v in verify)
    assert any(v.endswith("launch_finetune.py --help") for v in verify)
    gpu_only = [" ".join(v["argv"]) for v in trainer["verify"] if v["gpu_only"]]
    assert any("flash_attn" in v for v in gpu_only) and any(
        "groot_ops.gpu torch-check" in v for v in gpu_only
    )
    assert trainer["torchrun"][trainer["torchrun"].index("--dataset_path") + 1] == (
        "/workspace/datasets/groot/hospitality-7ds-merged"
    )


def test_production_containers(production: dict[str, Any]) -> None:
    ws = production["hosts"]["workstation"]["container"]
    assert (
        ws["image"] == "dm-workstation:latest" and ws["ipc_mode"] == "host" and ws["network_mode"] == "host"
    )
    assert ws["device_requests"][0]["driver"] == "nvidia" and "/workspace:/workspace" in ws["volumes"]
    assert ws["env"]["HF_HOME"] == "/workspace/hf-cache"
    spark = production["hosts"]["spark"]
    image = spark["server_image"]
    assert image["mode"] == "build" and image["arch"] == "aarch64"
    assert image["image"] == f"groot-server:spark-{COMMIT}"
    assert image["build"]["dockerfile"] == "/srv/groot-server/Isaac-GR00T/scripts/deployment/spark/Dockerfile"
    assert image["build"]["argv"][-1] == image["checkout"]["dir"] == "/srv/groot-server/Isaac-GR00T"
    assert spark["container"]["image"] == image["image"]
    assert spark["container"]["working_dir"] == "/workspace"
    assert spark["container"]["command"][:2] == ["python", "gr00t/eval/run_gr00t_server.py"]
    assert spark["container"]["device_requests"][0]["count"] == -1
    assert spark["probe"]["host"] == "192.168.1.237" and spark["probe"]["port"] == 5555


def test_lab_takes_the_same_paths(lab: dict[str, Any]) -> None:
    assert lab["production"] is False
    trainers = [h for h, v in lab["hosts"].items() if "trainers" in v["groups"]]
    assert trainers == ["lab-ws-dm-workstation", "lab-ws2-dm-workstation"]
    for host in trainers:
        trainer = lab["hosts"][host]
        assert trainer["env"]["python"] == trainer["interpreter"] == "/opt/groot-env/bin/python"
        install = trainer["env"]["install_fresh"][-1]["argv"]
        assert "--offline" in install and install[install.index("-e") + 1].endswith("/workspace/Isaac-GR00T")
        assert trainer["isaac_groot"]["commit"] == LAB_COMMIT
    assert [lab["hosts"][h]["node"]["rank"] for h in trainers] == [0, 1]
    spark = lab["hosts"]["lab-spark"]
    assert spark["server_image"]["image"] == f"groot-server:default-{LAB_COMMIT}"
    assert spark["server_image"]["build"]["dockerfile"].endswith("/lab-spark/Isaac-GR00T/docker/Dockerfile")
    # `lab down --images` finds the image the role built by the lab's label.
    from groot_ops.lab.layout import LABEL

    assert LABEL in spark["server_image"]["build"]["argv"]


def test_text_render_shows_the_commands() -> None:
    proc = _render("fold-towel", "-i", str(PROD))
    assert proc.returncode == 0, proc.stderr
    assert (
        "$ DOCKER_BUILDKIT=1 docker build --network host -f /srv/groot-server/Isaac-GR00T/scripts/"
        in proc.stdout
    )
    assert (
        "uv pip install --python /opt/conda/envs/unitree_sim_env/bin/python -e /workspace/Isaac-GR00T"
        in proc.stdout
    )
    assert "checks: " in proc.stdout and " 0 failed" in proc.stdout


def _inventory_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "production"
    shutil.copytree(PROD, dest)
    return dest


def _edit(path: Path, **values: Any) -> None:
    data = yaml.safe_load(path.read_text()) if path.exists() else {}
    data.update(values)
    path.write_text(yaml.safe_dump(data))


def test_a_lab_image_in_production_fails_the_render(tmp_path: Path) -> None:
    inventory = _inventory_copy(tmp_path)
    _edit(
        inventory / "group_vars/inference/server.yml", groot_server_image="groot-ops-lab/groot-server:latest"
    )
    rc, result = _json("fold-towel", "-i", str(inventory))
    failed = {c["name"]: c["message"] for c in result["checks"] if not c["ok"]}
    assert rc == 1 and set(failed) == {"no-lab-values:spark"}
    assert "groot-ops-lab/groot-server:latest" in failed["no-lab-values:spark"]


def test_an_interpreter_outside_the_env_fails_the_render(tmp_path: Path) -> None:
    # main before: the role built /opt/groot-env while the trainers ran the conda env's python.
    inventory = _inventory_copy(tmp_path)
    trainers = inventory / "group_vars/trainers/python_env.yml"
    _edit(trainers, groot_python_env_manager="uv", groot_python_env_dir="/opt/groot-env",
          ansible_python_interpreter="/opt/conda/envs/unitree_sim_env/bin/python")  # fmt: skip
    rc, result = _json("fold-towel", "-i", str(inventory))
    failed = {c["name"]: c["message"] for c in result["checks"] if not c["ok"]}
    assert rc == 1 and set(failed) == {"interpreter:dm-workstation"}
    assert "the env groot_env builds is /opt/groot-env/bin/python" in failed["interpreter:dm-workstation"]


def test_a_missing_pin_fails_the_render(tmp_path: Path) -> None:
    inventory = _inventory_copy(tmp_path)
    workspace = inventory / "group_vars/all/workspace.yml"
    data = yaml.safe_load(workspace.read_text())
    del data["groot_isaac_groot_commit"]
    workspace.write_text(yaml.safe_dump(data))
    rc, result = _json("fold-towel", "-i", str(inventory))
    assert rc == 1 and result["ok"] is False
    assert result["error"] == (
        "spark (inference): the Isaac-GR00T commit (groot_isaac_groot_commit) must be 40 hex digits, got ''"
    )


def test_unknown_recipe_and_missing_inventory_are_clear() -> None:
    proc = _render("no-such", "-i", str(PROD))
    assert proc.returncode == 1 and "Unknown recipe no-such. Known recipes: fold-towel" in proc.stderr
    proc = _render("fold-towel", "-i", "/nowhere")
    assert proc.returncode == 1 and "inventory /nowhere does not exist" in proc.stderr


def test_a_role_variable_that_cannot_be_set_fails_the_render(tmp_path: Path) -> None:
    inventory = _inventory_copy(tmp_path)
    _edit(inventory / "group_vars/trainers/python_env.yml", finetune_max_retries="{{ retries_from_nowhere }}")
    rc, result = _json("fold-towel", "-i", str(inventory))
    failed = {c["name"]: c["message"] for c in result["checks"] if not c["ok"]}
    assert rc == 1 and set(failed) == {"variables:dm-workstation:finetune"}
    assert "finetune_max_retries" in failed["variables:dm-workstation:finetune"]
    assert "retries_from_nowhere" in failed["variables:dm-workstation:finetune"]


def test_a_hub_warm_start_renders_as_the_sha_directory_the_role_fetches_into() -> None:
    rc, result = _json("fold-towel-full-phase2", "-i", str(PROD))
    assert rc == 0, [c for c in result["checks"] if not c["ok"]]
    argv = result["hosts"]["dm-workstation"]["torchrun"]
    base = argv[argv.index("--base_model_path") + 1]
    assert base.startswith("/workspace/models/warm-start/datamentorshf--groot-g1-gripper-fold-towel/")
    assert "datamentorshf/groot-g1-gripper-fold-towel@main, resolved at train" in base
    assert argv[argv.index("--output_dir") + 1] == "/workspace/checkpoints/fold-towel-full-phase2"
    assert argv[argv.index("--max_steps") + 1] == "4000"
