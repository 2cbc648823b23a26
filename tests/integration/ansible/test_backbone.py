"""The Ansible backbone: entry playbooks, the preamble, the production inventory, missing groot_ops."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.ansible_helpers import (
    REPO_ROOT,
    VENV_BIN,
    ansible_env,
    run_adhoc,
    run_playbook,
    write_local_inventory,
)

PLAYBOOKS = REPO_ROOT / "playbooks"
STAGES = ["preflight", "provision", "datasets", "train", "publish", "deploy"]
ENTRY_POINTS = [*STAGES, "cleanup", "status"]


def _load(name: str) -> list[dict]:
    return yaml.safe_load((PLAYBOOKS / f"{name}.yml").read_text())


def test_site_imports_every_stage_in_order() -> None:
    site = _load("site")
    assert [play["ansible.builtin.import_playbook"] for play in site] == [f"{s}.yml" for s in STAGES]


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_every_entry_point_starts_with_the_preamble(name: str) -> None:
    first = _load(name)[0]
    assert first.get("ansible.builtin.import_playbook") == "_preamble.yml", f"{name}.yml: first play"


def test_site_parses() -> None:
    result = run_playbook("playbooks/site.yml", args=["--syntax-check"], extra_vars={"recipe": "lab-demo"})
    assert result.rc == 0, result.describe()


def _inventory(path: str, *args: str) -> dict:
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-inventory"), "-i", str(REPO_ROOT / path), *args],
        env=ansible_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(proc.stdout)


def test_production_inventory_groups_and_connections() -> None:
    inv = _inventory("inventory/production", "--list", "-e", "recipe=hospitality-7ds")
    assert inv["workstations"]["hosts"] == ["workstation"]
    assert inv["trainers"]["hosts"] == ["dm-workstation"]
    assert inv["inference"]["hosts"] == ["spark"]
    hostvars = inv["_meta"]["hostvars"]
    assert hostvars["workstation"]["ansible_host"] == "192.168.1.205"
    assert hostvars["workstation"]["ansible_user"] == "datamentors"
    assert hostvars["spark"]["ansible_user"] == "nvidia"
    trainer = hostvars["dm-workstation"]
    assert trainer["ansible_connection"] == "community.docker.docker_api"
    assert trainer["ansible_docker_docker_host"] == "ssh://datamentors@192.168.1.205"
    recipes = trainer["groot_recipes"]
    assert sorted(recipes) == [
        "fold-towel",
        "fold-towel-full",
        "fold-towel-full-phase2",
        "hospitality-7ds",
        "loco-manip",
        "teleop",
    ]
    assert len(recipes["hospitality-7ds"]["datasets"]) == 7
    assert recipes["fold-towel"]["training"]["max_steps"] == 6000
    # The real vault is never committed; the example documents it.
    assert (REPO_ROOT / "inventory/production/group_vars/all/vault.yml.example").is_file()
    tracked = subprocess.run(
        ["git", "ls-files", "inventory/production"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert "inventory/production/group_vars/all/vault.yml" not in tracked


def test_unknown_recipe_on_production_fails_before_any_host(tmp_path: Path) -> None:
    result = run_playbook(
        "playbooks/site.yml", inventory="inventory/production", extra_vars={"recipe": "nope"}
    )
    assert result.rc != 0
    assert (
        "Unknown recipe nope. Known recipes: fold-towel, fold-towel-full, fold-towel-full-phase2, "
        "hospitality-7ds, loco-manip, teleop." in result.stdout
    )
    assert set(result.recap) == {"localhost"}


def test_module_without_groot_ops_on_the_target_names_host_and_package(tmp_path: Path) -> None:
    bare = "/usr/bin/python3"
    if subprocess.run([bare, "-c", "import groot_ops"], capture_output=True).returncode == 0:
        pytest.fail(f"{bare} can import groot_ops; this test needs a Python without it")
    result = run_adhoc(
        "localhost",
        "groot_stats",
        {"path": str(tmp_path)},
        args=["-e", f"ansible_python_interpreter={bare}", "-c", "local"],
        env={"PYTHONPATH": ""},
    )
    assert result.rc != 0
    assert "groot_ops" in result.stdout and socket.gethostname() in result.stdout, result.describe()


@pytest.mark.parametrize("name", ["datasets", "publish"])
def test_stage_without_trainers_fails_instead_of_matching_nothing(name: str, tmp_path: Path) -> None:
    inventory = write_local_inventory(tmp_path / "hosts.yml", {"inference": ["spark-test"]})
    vars_file = tmp_path / "vars.yml"
    recipe = {"datasets": [], "base_model": "b", "embodiment_tag": "UNITREE_G1", "training": {}, "hub": {}}
    vars_file.write_text(yaml.safe_dump({"groot_recipes": {"r": recipe}}))
    result = run_playbook(
        f"playbooks/{name}.yml", inventory=inventory, extra_vars={"recipe": "r"}, extra_vars_files=[vars_file]
    )
    assert result.rc != 0
    assert "No host in group trainers" in result.stdout, result.describe()
