"""groot_ops.deploy_fetch against the test Hub: the inference host fetches and verifies the model itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groot_ops.deploy_fetch import HubAuthError, HubClient, HubNotFound, ensure_model, manifest_path
from tests.hub_server.fixtures import HubHandle, hub  # noqa: F401  (fixture)
from tests.standins.model_fixture import write_model_dir

REPO = "groot/g1-model"


@pytest.fixture
def model(tmp_path: Path, hub: HubHandle) -> dict:  # noqa: F811
    src = write_model_dir(tmp_path / "export", seed=1)
    sha = hub.seed(REPO, src, repo_type="model", private=True, tags=["step-2"])
    return {"hub": hub, "sha": sha, "src": src, "root": tmp_path / "host" / "checkpoints"}


def fetch(model: dict, revision: str = "step-2", **kwargs):
    test_hub: HubHandle = model["hub"]
    client = HubClient(endpoint=test_hub.url, token=kwargs.pop("token", test_hub.token), sleep=lambda s: None)
    return ensure_model(REPO, revision, model["root"], client=client, **kwargs)


def same_tree(a: Path, b: Path) -> bool:
    files = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    other = sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file())
    return files == other and all((a / f).read_bytes() == (b / f).read_bytes() for f in files)


def test_fetch_pins_the_commit_and_a_second_run_reads_no_file(model: dict) -> None:
    test_hub: HubHandle = model["hub"]
    dry = fetch(model, check=True)
    assert dry["changed"] is True and dry["commit"] == model["sha"] and len(dry["downloaded"]) == dry["files"]
    assert not model["root"].exists()

    first = fetch(model)
    target = model["root"] / model["sha"]
    assert first["changed"] is True and first["path"] == str(target)
    assert same_tree(model["src"], target)
    # The manifest holds the Hub's hashes: sha256 for the LFS shard, git blob sha1 for the JSON files.
    manifest = json.loads(manifest_path(model["root"], model["sha"]).read_text())
    algos = {f["path"]: f["algo"] for f in manifest["files"]}
    assert algos["model-00001-of-00001.safetensors"] == "sha256" and algos["config.json"] == "git-sha1"
    assert not (model["root"] / ".groot_ops" / "staging" / model["sha"]).exists()

    test_hub.server.clear_requests()
    again = fetch(model)
    assert again["changed"] is False and again["hashed_bytes"] == 0 and again["downloaded"] == []
    assert again["hub_requests"] == 1  # resolving the tag; nothing else
    by_commit = fetch(model, revision=model["sha"])
    assert by_commit["changed"] is False and by_commit["hub_requests"] == 0
    assert [r.path for r in test_hub.server.recorded()] == [f"/api/models/{REPO}/revision/step-2"]


def test_damaged_missing_and_stray_files_are_repaired(model: dict) -> None:
    fetch(model)
    target = model["root"] / model["sha"]
    shard = target / "model-00001-of-00001.safetensors"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one flipped byte
    shard.write_bytes(bytes(data))
    (target / "statistics.json").write_text("{}")  # truncated
    (target / "config.json").unlink()
    (target / "stray.txt").write_text("not part of the revision")
    (target / ".groot_server_complete").write_text("the old marker")

    repaired = fetch(model)
    assert repaired["changed"] is True
    assert sorted(repaired["repaired"]) == [
        "config.json",
        "model-00001-of-00001.safetensors",
        "statistics.json",
    ]
    assert sorted(repaired["removed"]) == [".groot_server_complete", "stray.txt"]
    assert repaired["diff"]["before"]["config.json"] == "missing"
    assert repaired["diff"]["before"]["statistics.json"] == "damaged"
    assert same_tree(model["src"], target)
    assert fetch(model)["changed"] is False


def test_a_lost_manifest_is_rebuilt_by_hashing_without_downloading(model: dict) -> None:
    fetch(model)
    manifest_path(model["root"], model["sha"]).write_text("garbage")
    rebuilt = fetch(model)
    assert rebuilt["changed"] is False and rebuilt["downloaded"] == []
    assert rebuilt["hashed_bytes"] == rebuilt["bytes"]
    assert fetch(model)["hashed_bytes"] == 0


def test_full_verify_hashes_everything_and_finds_damage_stat_cannot_see(model: dict) -> None:
    fetch(model)
    shard = model["root"] / model["sha"] / "model-00001-of-00001.safetensors"
    manifest_file = manifest_path(model["root"], model["sha"])
    manifest = json.loads(manifest_file.read_text())
    # Simulate damage below the file system: the recorded stat matches, the bytes do not.
    data = bytearray(shard.read_bytes())
    data[0] ^= 0xFF
    shard.write_bytes(bytes(data))
    for entry in manifest["files"]:
        if entry["path"] == shard.name:
            st = shard.stat()
            entry["stat"] = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
    manifest_file.write_text(json.dumps(manifest))
    assert fetch(model)["changed"] is False  # stat says unchanged
    full = fetch(model, verify="full")
    assert full["repaired"] == [shard.name] and full["hashed_bytes"] == full["bytes"]
    assert same_tree(model["src"], model["root"] / model["sha"])


def test_a_download_cut_mid_file_resumes_with_range(model: dict) -> None:
    test_hub: HubHandle = model["hub"]
    test_hub.server.inject("GET", r"/resolve/.*\.safetensors$", mode="drop")
    first = fetch(model)
    assert first["changed"] is True and len(first["retries"]) == 1
    gets = [r for r in test_hub.server.recorded("GET", r"\.safetensors$")]
    assert len(gets) == 2 and gets[1].headers.get("range", "").startswith("bytes=")
    assert gets[1].headers["range"] != "bytes=0-"
    assert same_tree(model["src"], model["root"] / model["sha"])


def test_an_interrupted_new_revision_keeps_its_finished_files(model: dict) -> None:
    test_hub: HubHandle = model["hub"]
    test_hub.server.inject("GET", r"/resolve/.*\.safetensors$", status=404, times=1)
    with pytest.raises(HubNotFound, match="not found"):
        fetch(model)
    assert not (model["root"] / model["sha"]).exists()  # nothing half-done is visible
    test_hub.server.clear_requests()
    second = fetch(model)
    assert second["changed"] is True
    fetched = {r.extra.get("file") for r in test_hub.server.recorded("GET", r"/resolve/")}
    # The files finished before the failure were kept in staging and are not fetched again.
    assert "model-00001-of-00001.safetensors" in fetched
    assert not fetched & {"config.json", "embodiment_id.json"}, fetched
    assert same_tree(model["src"], model["root"] / model["sha"])


def test_a_moved_tag_deploys_the_new_commit_next_to_the_old(model: dict, tmp_path: Path) -> None:
    test_hub: HubHandle = model["hub"]
    fetch(model)
    newer = write_model_dir(tmp_path / "export-b", seed=2)
    sha_b = test_hub.seed(REPO, newer, repo_type="model", private=True)
    moved = fetch(model, revision="main")
    assert moved["commit"] == sha_b and moved["changed"] is True
    assert (model["root"] / model["sha"]).is_dir() and same_tree(newer, model["root"] / sha_b)


def test_private_repo_without_a_token_fails_naming_repo_and_endpoint(model: dict) -> None:
    test_hub: HubHandle = model["hub"]
    with pytest.raises(HubAuthError) as denied:
        fetch(model, token=None)
    assert REPO in str(denied.value) and test_hub.url in str(denied.value)
    with pytest.raises(HubAuthError) as wrong:
        fetch(model, token="hf_not_a_valid_token_0000")
    assert "hf_not_a_valid" not in str(wrong.value)
    with pytest.raises(HubNotFound, match="revision not found"):
        fetch(model, revision="step-999")


def test_the_host_modules_need_only_the_standard_library(model: dict, tmp_path: Path) -> None:
    """The inference host has python3 and Docker, not groot_ops: the host modules run there as shipped."""
    from tests.ansible_helpers import run_adhoc, write_local_inventory

    test_hub: HubHandle = model["hub"]
    inventory = write_local_inventory(
        tmp_path / "hosts.yml",
        {"inference": ["bare-host"]},
        {"ansible_python_interpreter": "/usr/bin/python3"},
    )
    bare = {"PYTHONPATH": "", "HF_ENDPOINT": test_hub.url}  # no groot_ops on the host's path
    proof = run_adhoc("bare-host", "ansible.builtin.command", "/usr/bin/python3 -c 'import groot_ops'",
                      inventory=inventory, env=bare)  # fmt: skip
    assert proof.rc != 0 and "No module named 'groot_ops'" in proof.output, proof.describe()
    args = {"repo_id": REPO, "revision": "step-2", "root": str(model["root"]), "token": test_hub.token}
    fetched = run_adhoc("bare-host", "groot_server_model", args, inventory=inventory, env=bare)
    assert fetched.rc == 0 and "CHANGED" in fetched.stdout, fetched.describe()
    assert test_hub.token not in fetched.output
    assert same_tree(model["src"], model["root"] / model["sha"])
    state = {
        "state_file": str(tmp_path / "deployed.json"),
        "checkpoint_dir": str(model["root"]),
        "container_name": "groot-ops-no-such-container",
        "target": {"revision": model["sha"]},
    }
    planned = run_adhoc("bare-host", "groot_server_state", state, inventory=inventory, env=bare)
    assert planned.rc == 0 and "action: start" in planned.stdout, planned.describe()
    logs = {"name": "groot-ops-no-such-container", "wait": False}
    watched = run_adhoc("bare-host", "groot_server_watch", logs, inventory=inventory, env=bare)
    assert watched.rc == 0 and "reason: missing" in watched.stdout, watched.describe()
