"""playbooks/cleanup.yml on localhost: --check reports, a run reclaims, a re-run changes nothing.

The localhost ``trainers`` host holds a workspace with reclaimables of every kind next to the protected set;
the localhost ``workstations`` host runs with the system python3, which has no groot_ops (as production's
and the lab's engine hosts), and removes docker objects this test created, restricted by a label filter so
that the other tests' containers and images on the same engine are never touched.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ansible_helpers import run_playbook, write_local_inventory
from tests.unit.disk.builders import age, checkpoint, commit, hf_repo, write_file

LABEL = "groot-ops-test=disk"
BASE = "nvidia/GR00T-N1.6-3B"
DATASET = "unitreerobotics/G1_Dex1_Fold_Towel"
POLICY_TASK = "Disk guard | run the cleanup policy"


def _docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True, timeout=120).stdout


ROLE = "org.groot-ops.role"
SYSTEM_PYTHON = Path("/usr/bin/python3")


@pytest.fixture
def docker_garbage() -> Iterator[dict[str, str]]:
    """Objects labelled for this test only: of this project (a stopped container, a dangling image, an unused
    network), stopped ones labelled as the workstation and the server, and a stopped one of nobody's."""
    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode:
        pytest.skip("no Docker engine answers `docker info`")
    tag = f"groot-ops-disk-{uuid.uuid4().hex[:8]}"
    names = {
        "container": f"{tag}-c",
        "workstation": f"{tag}-ws",
        "server": f"{tag}-srv",
        "foreign": f"{tag}-x",
    }
    roles = {"container": "test", "workstation": "workstation", "server": "server", "foreign": None}
    for key, name in names.items():
        role = ["--label", f"{ROLE}={roles[key]}"] if roles[key] else []
        _docker(
            "run", "--name", name, "--label", LABEL, *role, "groot-ops-base:bookworm",
            "sh", "-c", "head -c 3000000 /dev/urandom > /blob",
        )  # fmt: skip
    labels = ["--change", f"LABEL {LABEL}", "--change", f"LABEL {ROLE}=image"]
    first = _docker("commit", *labels, names["container"], f"{tag}-img:latest").strip()
    # Committing again under the same tag leaves the first image dangling.
    _docker("commit", *labels, "--change", "ENV X=1", names["container"], f"{tag}-img:latest")
    _docker("network", "create", "--label", LABEL, "--label", f"{ROLE}=network", f"{tag}-net")
    yield {**names, "dangling": first, "image": f"{tag}-img:latest", "network": f"{tag}-net"}
    for name in names.values():
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)
    subprocess.run(["docker", "rmi", "-f", f"{tag}-img:latest", first], capture_output=True)
    subprocess.run(["docker", "network", "rm", f"{tag}-net"], capture_output=True)


def _exists(kind: str, name: str) -> bool:
    return subprocess.run(["docker", kind, "inspect", name], capture_output=True).returncode == 0


def _workspace(root: Path) -> None:
    cache = root / "hf-cache" / "hub"
    hf_repo(
        cache,
        BASE,
        {commit(1): {"model.safetensors": 300_000}, commit(9): {"old": 10_000}},
        {"main": commit(1)},
    )
    hf_repo(cache, DATASET, {commit(2): {"data.parquet": 100_000}}, {"main": commit(2)}, repo_type="dataset")
    hf_repo(cache, "someone/unused", {commit(3): {"w": 200_000}}, {"main": commit(3)})
    hf_repo(
        cache, "someone/moved", {commit(4): {"w": 100_000}, commit(5): {"w": 100_001}}, {"main": commit(5)}
    )
    write_file(cache / "models--someone--moved" / "blobs" / "abc.incomplete", 150_000)
    age(root / "hf-cache", 30)
    write_file(root / "pip" / "http-v2" / "blob", 120_000)
    quarantine = root / "checkpoints" / ".quarantine" / "towel"
    age(checkpoint(quarantine, 30, size=110_000, complete=False), 10)
    for step in (10, 20, 30):
        checkpoint(root / "checkpoints" / "towel", step, size=130_000)
        checkpoint(root / "checkpoints" / "busy", step, size=130_000)
    (root / "runs" / "towel").mkdir(parents=True)
    (root / "runs" / "towel" / "status.json").write_text('{"state": "finished"}')
    write_file(root / "exports" / "towel" / "step-30" / "model.safetensors", 50_000)
    write_file(root / "datasets" / "groot" / "towel" / "data.parquet", 50_000)
    age(write_file(root / "tmp" / "old-build" / "a.o", 140_000).parent, 30)
    write_file(root / "tmp" / "fresh", 1000)


def _snapshot(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.lstat().st_size for p in sorted(root.rglob("*"))}


DOCKER_TASK = "Disk guard | remove this project's unused docker objects"


def _play(tmp_path: Path, *, check: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    result = run_playbook(
        "playbooks/cleanup.yml",
        inventory=tmp_path / "hosts.yml",
        extra_vars_files=[tmp_path / "vars.yml"],
        check=check,
        diff=True,
        env={"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"},
        timeout=300,
    )
    assert result.rc == 0, result.describe()
    out = json.loads(result.stdout)
    policy = {
        host: res
        for play in out["plays"]
        for task in play["tasks"]
        if task["task"]["name"].endswith((POLICY_TASK, DOCKER_TASK))
        for host, res in task["hosts"].items()
    }
    return out["stats"], policy


@pytest.mark.docker
def test_cleanup_playbook_check_then_clean_then_noop(tmp_path: Path, docker_garbage: dict[str, str]) -> None:
    ws = tmp_path / "workspace"
    _workspace(ws)
    if (
        not SYSTEM_PYTHON.is_file()
        or subprocess.run([SYSTEM_PYTHON, "-c", "import groot_ops"]).returncode == 0
    ):
        pytest.skip(f"needs a python3 without groot_ops at {SYSTEM_PYTHON} to stand in for an engine host")
    inventory = write_local_inventory(
        tmp_path / "hosts.yml", {"trainers": ["trainer-1"], "workstations": ["engine-1"]}
    )
    hosts = yaml.safe_load(inventory.read_text())
    hosts["all"]["children"]["workstations"]["hosts"]["engine-1"]["ansible_python_interpreter"] = str(
        SYSTEM_PYTHON
    )
    inventory.write_text(yaml.safe_dump(hosts, sort_keys=False))
    recipe = {
        "datasets": [{"name": "towel", "repo_id": DATASET, "revision": "main"}],
        "base_model": BASE,
        "embodiment_tag": "UNITREE_G1",
        "training": {"max_steps": 30, "save_total_limit": 2},
        "hub": {"repo_id": "test/towel", "private": True},
    }
    extra = {
        "groot_recipes": {"towel": recipe},
        "recipe": "towel",
        "groot_workspace": str(ws),
        "disk_guard_pip_cache_dirs": [str(ws / "pip")],
        "disk_guard_uv_cache_dirs": [],
        "disk_guard_tmp_dir": str(ws / "tmp"),
        "disk_guard_hf_incomplete_min_age_minutes": 0,
        "disk_guard_docker_prune_filter": f"label={LABEL}",
    }
    (tmp_path / "vars.yml").write_text(yaml.safe_dump(extra))
    before = _snapshot(ws)

    stats, policy = _play(tmp_path, check=True)
    assert _snapshot(ws) == before, "--check deleted files"
    assert _exists("container", docker_garbage["container"])
    assert _exists("image", docker_garbage["dangling"])
    trainer, engine = policy["trainer-1"], policy["engine-1"]
    steps = {s["name"]: s for s in trainer["steps"]}
    assert steps["hf_incomplete"]["freed_bytes"] >= 150_000
    assert steps["hf_detached_revisions"]["items"] == [f"model/someone/moved@{commit(4)[:12]}"]
    assert sorted(steps["hf_unused_repos"]["items"]) == ["model/someone/moved", "model/someone/unused"]
    assert steps["package_caches"]["freed_bytes"] >= 120_000
    assert steps["quarantine"]["freed_bytes"] >= 110_000
    assert steps["finished_runs"]["items"] == [str(ws / "checkpoints/towel/checkpoint-10"),
                                               str(ws / "checkpoints/towel/checkpoint-20")]  # fmt: skip
    assert steps["tmp"]["items"] == [str(ws / "tmp/old-build")]
    # The engine host has no groot_ops: its module ran with the standard library alone.
    would = {c["id"]: c for c in engine["removed"]}
    assert {c["name"] for c in would.values()} >= {docker_garbage["container"], docker_garbage["network"]}
    assert any(i.startswith(docker_garbage["dangling"]) or docker_garbage["dangling"] in i for i in would)
    assert engine["freed_bytes"] >= 3_000_000
    # --check names each candidate with its size.
    container_line = next(line for line in engine["lines"] if docker_garbage["container"] in line)
    assert (
        container_line.startswith(f"would remove: container {docker_garbage['container']} (")
        and "MB" in container_line
    )
    for spared in ("workstation", "server", "foreign"):
        assert docker_garbage[spared] not in {c["name"] for c in would.values()}, spared
    assert any(docker_garbage["workstation"] in k and "protected" in k for k in engine["kept"])
    assert trainer["changed"] and engine["changed"]
    assert "someone/unused" in trainer["diff"]["before"]
    reclaimable = trainer["freed_bytes"]

    stats, policy = _play(tmp_path, check=False)
    trainer, engine = policy["trainer-1"], policy["engine-1"]
    assert trainer["freed_bytes"] == reclaimable
    assert engine["freed_bytes"] >= 3_000_000
    assert not _exists("container", docker_garbage["container"])
    assert not _exists("image", docker_garbage["dangling"])
    assert not _exists("network", docker_garbage["network"])
    assert _exists("image", docker_garbage["image"]), "a tagged image must survive (never image prune -a)"
    # Stopped, but the workstation's and the server's containers are never removed; nor anyone else's.
    for spared in ("workstation", "server", "foreign"):
        assert _exists("container", docker_garbage[spared]), spared
    after = _snapshot(ws)
    # The protected set is intact.
    for kept in (
        f"hf-cache/hub/models--nvidia--GR00T-N1.6-3B/snapshots/{commit(9)}/old",
        f"hf-cache/hub/models--nvidia--GR00T-N1.6-3B/snapshots/{commit(1)}/model.safetensors",
        f"hf-cache/hub/datasets--unitreerobotics--G1_Dex1_Fold_Towel/snapshots/{commit(2)}/data.parquet",
        "checkpoints/towel/checkpoint-30/model.safetensors",
        "checkpoints/busy/checkpoint-10/model.safetensors",
        "exports/towel/step-30/model.safetensors",
        "datasets/groot/towel/data.parquet",
        "tmp/fresh",
    ):
        assert after.get(kept) == before[kept], kept
    assert "checkpoints/towel/checkpoint-20" not in after
    assert "hf-cache/hub/models--someone--unused" not in after

    stats, policy = _play(tmp_path, check=False)
    assert stats["trainer-1"]["changed"] == 0
    assert stats["engine-1"]["changed"] == 0
    assert policy["trainer-1"]["freed_bytes"] == 0
