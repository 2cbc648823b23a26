"""The test Hub itself: protocol details the pipeline relies on, and the standalone process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.hub_server.fixtures import WRITE_TOKEN
from tests.hub_server.storage import git_blob_oid

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_refs_tree_and_revision_resolution(hub, raw_dataset):
    from huggingface_hub import HfApi

    sha = hub.seed("groot/ds", raw_dataset, tags=["v1"], branches=["stable"])
    api = HfApi(endpoint=hub.url, token=hub.token)
    refs = api.list_repo_refs("groot/ds", repo_type="dataset")
    assert {b.name: b.target_commit for b in refs.branches} == {"main": sha, "stable": sha}
    assert [(t.name, t.target_commit) for t in refs.tags] == [("v1", sha)]
    for rev in ("v1", "stable", "refs/heads/main", sha):
        assert api.repo_info("groot/ds", repo_type="dataset", revision=rev).sha == sha
    top = {e.path for e in api.list_repo_tree("groot/ds", repo_type="dataset", revision="v1")}
    assert top == {"README.md", "meta", "data", "videos"}
    entries = {e.path: e for e in api.list_repo_tree("groot/ds", repo_type="dataset", recursive=True)}
    readme = (raw_dataset / "README.md").read_bytes()
    assert entries["README.md"].blob_id == git_blob_oid(readme) and entries["README.md"].lfs is None
    assert entries["data/chunk-000/episode_000000.parquet"].lfs is not None


def test_stale_parent_commit_is_rejected_with_412(hub, raw_dataset):
    from huggingface_hub import CommitOperationAdd, HfApi
    from huggingface_hub.errors import HfHubHTTPError

    first = hub.seed("groot/ds", raw_dataset)
    api = HfApi(endpoint=hub.url, token=hub.token)
    api.upload_file(path_or_fileobj=b"new", path_in_repo="new.txt", repo_id="groot/ds", repo_type="dataset")
    with pytest.raises(HfHubHTTPError) as err:
        api.create_commit(
            "groot/ds",
            [CommitOperationAdd("other.txt", b"x")],
            commit_message="stale",
            parent_commit=first,
            repo_type="dataset",
        )
    assert err.value.response.status_code == 412


def test_range_requests_and_private_repos(hub, raw_dataset):
    hub.seed("groot/secret", raw_dataset, private=True)
    url = f"{hub.url}/datasets/groot/secret/resolve/main/README.md"
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url)
    assert err.value.code == 401 and err.value.headers["X-Error-Code"] == "RepoNotFound"
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {hub.token}", "Range": "bytes=2-"}
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 206 and response.read() == (raw_dataset / "README.md").read_bytes()[2:]
    recorded = hub.server.recorded("GET", "/resolve/")[-1]
    assert recorded.headers["authorization"] == "<redacted>" and hub.token not in json.dumps(
        recorded.as_dict()
    )


def test_standalone_process_with_faults_over_http(tmp_path, raw_dataset):
    env = {**os.environ, "HUB_SERVER_TOKENS": f"lab={WRITE_TOKEN}", "PYTHONPATH": str(REPO_ROOT / "python")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.hub_server", "--root", str(tmp_path / "store")],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("hub server listening on http://127.0.0.1:"), line
        url = line.split()[-1]
        assert WRITE_TOKEN not in " ".join(proc.args)
        from tests.hub_server.seed import seed_folder

        sha = seed_folder(url, WRITE_TOKEN, "lab/ds", raw_dataset)
        fault = {"method": "GET", "path_regex": "/revision/", "status": 503, "times": 1}
        post = urllib.request.Request(f"{url}/_test/faults", data=json.dumps(fault).encode(), method="POST")
        post.add_header("Content-Type", "application/json")
        urllib.request.urlopen(post).close()
        info = f"{url}/api/datasets/lab/ds/revision/main"
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(info)
        assert err.value.code == 503
        with urllib.request.urlopen(info) as response:
            assert json.loads(response.read())["sha"] == sha
        with urllib.request.urlopen(f"{url}/_test/requests") as response:
            log = json.loads(response.read())
        assert [r["status"] for r in log if "/revision/" in r["path"]] == [503, 200]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    # Storage outlives the process: a restarted server still knows the commit.
    from tests.hub_server.server import HubServer

    with (
        HubServer(tmp_path / "store") as again,
        urllib.request.urlopen(f"{again.url}/api/datasets/lab/ds/revision/main") as response,
    ):
        assert json.loads(response.read())["sha"] == sha


def test_xet_uploaded_files_are_refused_over_http_with_the_reason(hub_any, tmp_path):
    from huggingface_hub import HfApi, hf_hub_download

    api = HfApi(endpoint=hub_any.url, token=hub_any.token)
    api.create_repo("groot/m")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "w.safetensors").write_bytes(os.urandom(2048))
    api.upload_folder(folder_path=str(tmp_path / "src"), repo_id="groot/m")
    if not hub_any.xet:
        path = hf_hub_download("groot/m", "w.safetensors", endpoint=hub_any.url, token=hub_any.token)
        assert Path(path).read_bytes() == (tmp_path / "src" / "w.safetensors").read_bytes()
        return
    url = f"{hub_any.url}/groot/m/resolve/main/w.safetensors"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {hub_any.token}"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request)
    assert err.value.code == 501 and "HF_HUB_DISABLE_XET=1" in err.value.headers["X-Error-Message"]
