"""Fast checks of the lab's pure parts: recap parsing, seed plan, ssh trust files, inventory sync."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from groot_ops.errors import ConfigError
from groot_ops.lab import layout, seedplan, ssh
from groot_ops.lab.layout import LabPaths
from groot_ops.lab.pipeline import changed_tasks, parse_recap, playbook_argv

REPO = Path(__file__).resolve().parents[2]

RECAP = """
TASK [x] ****
ok: [lab-ws]

PLAY RECAP *********************************************************************
lab-ws                     : ok=12   changed=3    unreachable=0    failed=0    skipped=2
lab-ws-dm-workstation      : ok=4    changed=0    unreachable=1    failed=1    skipped=0
"""


def test_parse_recap_reads_every_host() -> None:
    recap = parse_recap(RECAP)
    assert recap["lab-ws"] == {"ok": 12, "changed": 3, "unreachable": 0, "failed": 0}
    assert recap["lab-ws-dm-workstation"]["unreachable"] == 1
    assert parse_recap("ok: [lab-ws]\n") == {}


def test_changed_tasks_names_host_and_task() -> None:
    text = (
        "TASK [a | one] ****\nok: [lab-ws]\n"
        "TASK [b | two] ****\nchanged: [lab-spark]\nchanged: [lab-ws] => (item=x)\n"
    )
    assert changed_tasks(text) == ["lab-spark: b | two", "lab-ws: b | two"]


def test_inventory_ports_match_the_layout() -> None:
    lab = yaml.safe_load((REPO / "inventory/lab/group_vars/all/lab.yml").read_text())
    assert lab["lab_ssh_ports"] == {host.name: host.ssh_port for host in layout.HOSTS}
    hosts = yaml.safe_load((REPO / "inventory/lab/hosts.yml").read_text())["all"]["children"]
    lab_hosts = set(hosts["lab_workstation_nodes"]["hosts"]) | set(hosts["inference"]["hosts"])
    assert lab_hosts == {host.name for host in layout.HOSTS}


@pytest.mark.parametrize(
    ("recipe", "nodes"),
    [("lab-demo", ["lab-ws", "lab-ws-dm-workstation"]),
     ("lab-demo-2node", ["lab-ws", "lab-ws-dm-workstation", "lab-ws2", "lab-ws2-dm-workstation"])],
)  # fmt: skip
def test_recipe_decides_the_training_nodes(recipe: str, nodes: list[str]) -> None:
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(REPO / "inventory/lab"),
         "--list", "-e", f"recipe={recipe}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    groups = json.loads(proc.stdout)
    assert sorted(groups["workstations"]["hosts"] + groups["trainers"]["hosts"]) == sorted(nodes)
    # The first trainer is the rendezvous host; it must be lab-ws's container in every variant.
    assert groups["trainers"]["hosts"][0] == "lab-ws-dm-workstation"


def test_known_hosts_pins_alias_and_loopback_port() -> None:
    host = layout.HOSTS[0]
    text = ssh.known_hosts_text([(host, "ssh-ed25519 AAAAkey")])
    assert text == f"{host.name},[127.0.0.1]:{host.ssh_port} ssh-ed25519 AAAAkey\n"


def test_ssh_config_never_disables_host_key_checking(tmp_path: Path) -> None:
    text = ssh.ssh_config_text(LabPaths(tmp_path), layout.HOSTS)
    assert text.count("StrictHostKeyChecking yes") == len(layout.HOSTS)
    assert "StrictHostKeyChecking no" not in text
    assert f"UserKnownHostsFile {tmp_path}/.lab/ssh/known_hosts" in text


def test_seed_plan_follows_the_lab_recipes() -> None:
    plan = seedplan.seed_plan(REPO / "inventory" / "lab")
    by_repo = {spec["repo_id"]: spec for spec in plan}
    recipes = yaml.safe_load((REPO / "inventory/lab/group_vars/all/recipes.yml").read_text())["groot_recipes"]
    for recipe in recipes.values():
        for dataset in recipe["datasets"]:
            assert dataset["repo_id"] in by_repo
    assert {spec["version"] for spec in plan} == {"v2.1", "v3.0"}


def test_seed_plan_rejects_dataset_without_repo(tmp_path: Path) -> None:
    gv = tmp_path / "group_vars" / "all"
    gv.mkdir(parents=True)
    (gv / "recipes.yml").write_text("groot_recipes:\n  bad:\n    datasets:\n      - {name: x}\n")
    with pytest.raises(ConfigError, match=r"recipes.yml: recipe bad: dataset without a repo id"):
        seedplan.seed_plan(tmp_path)


def test_playbook_argv_passes_the_lab_vault_as_a_file(tmp_path: Path) -> None:
    argv = playbook_argv(tmp_path, "site.yml", recipe="lab-demo")
    assert argv[argv.index("--vault-password-file") + 1] == str(tmp_path / ".lab/vault-pass")
    assert f"@{tmp_path}/.lab/vault.yml" in argv
    assert "recipe=lab-demo" in argv
    assert argv[argv.index("--skip-tags") + 1] == "gpu"
    assert not any("hf_" in arg for arg in argv)


def test_vault_is_encrypted_and_holds_the_hub_token(tmp_path: Path) -> None:
    from groot_ops.lab import vault

    paths = LabPaths(tmp_path)
    token = vault.ensure_vault(paths)
    assert token.startswith("hf_lab_")
    assert token not in paths.vault_file.read_text(), "the vault file holds the token in plain text"
    assert paths.vault_file.read_text().startswith("$ANSIBLE_VAULT;")
    assert oct(paths.vault_password_file.stat().st_mode & 0o777) == "0o600"
    plain = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-vault"), "view", "--vault-password-file",
         str(paths.vault_password_file), str(paths.vault_file)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert yaml.safe_load(plain) == {vault.TOKEN_VARIABLE: token}
    # A second `lab up` keeps the same secret (the lab Hub already trusts it).
    assert vault.ensure_vault(paths) == token


def test_wheelhouse_pins_cpu_torch_and_the_env_versions() -> None:
    from importlib import metadata

    from groot_ops.lab.wheelhouse import requirements

    reqs = requirements(REPO)
    assert "torch==2.13.0" in reqs
    assert f"numpy=={metadata.version('numpy')}" in reqs
    assert any(req.startswith("huggingface_hub==") for req in reqs)


def test_wheelhouse_carries_what_groot_env_installs_offline() -> None:
    from groot_ops.lab.wheelhouse import groot_env_uv_spec, requirements

    reqs = requirements(REPO)
    # The trainers have no index: groot_env bootstraps uv and installs groot_ops's runtime
    # dependencies from this list only (a fresh clone has no other wheels to fall back on).
    assert groot_env_uv_spec(REPO) in reqs
    names = {re.split(r"[<>=!~\[]", r, maxsplit=1)[0].lower() for r in reqs}
    assert {"torch", "numpy", "pyarrow", "pyyaml", "huggingface_hub", "pyzmq", "msgpack", "uv"} <= names


def test_a_lab_container_s_checkout_comes_from_its_label_or_its_mounts(tmp_path: Path) -> None:
    from groot_ops.lab import owner

    mine, other, gone = tmp_path / "mine", tmp_path / "other", tmp_path / "deleted"
    mine.mkdir()
    other.mkdir()
    labelled = {"Config": {"Labels": {owner.CHECKOUT_LABEL: str(other)}}, "Mounts": []}
    sources = ["/var/run/docker.sock", f"{mine}/.lab/hosts/lab-ws/workspace"]
    mounted = {"Config": {"Labels": {}}, "Mounts": [{"Source": source} for source in sources]}
    orphan = {"Config": {}, "Mounts": [{"Source": f"{gone}/.lab/ssh/authorized_keys"}]}
    stranger = {"Config": {"Labels": {}}, "Mounts": [{"Source": "/srv/data"}]}
    assert owner.lab_root_of(labelled) == other / ".lab"
    assert owner.lab_root_of(mounted) == mine / ".lab"
    assert owner.lab_root_of(stranger) is None
    infos = {"lab-ws": labelled, "lab-ws-dm-workstation": mounted, "groot-server": orphan}
    # Only another checkout that still exists holds the lab; a deleted checkout's containers are fair game.
    found = owner.foreign(infos, mine / ".lab")
    assert [(f.container, f.checkout) for f in found] == [("lab-ws", other)]
    message = owner.in_use_message(found)
    assert message.startswith(
        f"a lab from another checkout ({other}) is up and holds the lab's container names"
    )
    assert f"`make -C {other} lab-down`" in message and "127.0.0.1:22021" in message


def test_a_lab_port_held_by_something_else_is_named() -> None:
    from groot_ops.lab import owner

    refused = (
        "docker: Error response from daemon: ... Bind for 127.0.0.1:22021 failed: port is already allocated."
    )
    error = owner.port_in_use(refused, 22021)
    assert error is not None and str(error).startswith(
        "port 127.0.0.1:22021, which the lab publishes, is taken"
    )
    assert owner.port_in_use("no such image", 22021) is None
