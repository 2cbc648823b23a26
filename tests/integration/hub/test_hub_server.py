"""The test Hub itself: protocol details the pipeline relies on, and the standalone process."""

from __future__ import annotations

import base64
import json
import math
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.hub_server.fixtures import WRITE_TOKEN
from tests.hub_server.server import TREE_EXPAND_PAGE_SIZE, TREE_PAGE_SIZE
from tests.hub_server.storage import git_blob_oid

REPO_ROOT = Path(__file__).resolve().parents[3]


def _get_page(url: str) -> tuple[list[dict], str | None]:
    """One tree page over plain HTTP and the next page's URL from its ``Link`` header."""
    with urllib.request.urlopen(url) as response:
        link = response.headers.get("Link")
        page = json.loads(response.read())
    match = re.fullmatch(r'<([^>]+)>; rel="next"', link) if link else None
    assert link is None or match, link
    return page, match.group(1) if match else None


def _cursor_of(url: str) -> dict:
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["cursor"][0]
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def _with_cursor(url: str, cursor: str) -> str:
    split = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(split.query) if k != "cursor"]
    return split._replace(query=urllib.parse.urlencode([*query, ("cursor", cursor)])).geturl()


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
        [
            sys.executable,
            "-m",
            "tests.hub_server",
            "--root",
            str(tmp_path / "store"),
            "--tree-page-size",
            "2",
        ],
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
        from groot_ops.lab.hubseed import seed_folder

        sha = seed_folder(url, WRITE_TOKEN, "lab/ds", raw_dataset)
        page, next_url = _get_page(f"{url}/api/datasets/lab/ds/tree/main")
        assert len(page) == 2 and next_url is not None and next_url.startswith(f"{url}/api/")
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


def _listing(api, **kwargs) -> list[tuple[str, str]]:
    return [(type(e).__name__, e.path) for e in api.list_repo_tree("groot/ds", repo_type="dataset", **kwargs)]


def test_tree_pages_cover_every_entry_once_in_the_one_page_order(hub, raw_dataset):
    from huggingface_hub import HfApi

    hub.seed("groot/ds", raw_dataset)
    api = HfApi(endpoint=hub.url, token=hub.token)
    assert hub.server.tree_page_size == TREE_PAGE_SIZE
    kinds = [{"recursive": True}, {}, {"path_in_repo": "videos", "recursive": True}, {"expand": True}]
    whole = {i: _listing(api, **kwargs) for i, kwargs in enumerate(kinds)}
    assert not [r for r in hub.server.recorded("GET", "/tree/") if "cursor" in r.query]

    hub.server.tree_page_size = 3
    hub.server.clear_requests()
    for i, kwargs in enumerate(kinds):
        assert _listing(api, **kwargs) == whole[i], kwargs

    files = sorted(p.relative_to(raw_dataset).as_posix() for p in raw_dataset.rglob("*") if p.is_file())
    paths = [path for _, path in whole[0]]
    assert len(paths) == len(set(paths)) and sorted(p for k, p in whole[0] if k == "RepoFile") == files
    pages = hub.server.recorded("GET", "/tree/")
    assert all(r.status == 200 for r in pages)
    assert len(pages) == sum(math.ceil(len(listing) / 3) for listing in whole.values())
    recursive = [
        r for r in pages if r.query["recursive"][0].lower() == "true" and r.path.endswith("/tree/main")
    ]
    assert len(whole[0]) > 3 * 2 and len(recursive) == math.ceil(len(whole[0]) / 3)
    assert [r.extra["tree_page"]["offset"] for r in recursive] == list(range(0, len(whole[0]), 3))
    assert "cursor" not in recursive[0].query and all("cursor" in r.query for r in recursive[1:])
    assert [r.extra["tree_page"]["next"] for r in recursive] == [True] * (len(recursive) - 1) + [False]


def test_expand_pages_are_capped_like_the_hub(hub, tmp_path):
    from huggingface_hub import HfApi

    src = tmp_path / "many"
    src.mkdir()
    for i in range(TREE_EXPAND_PAGE_SIZE + 5):
        (src / f"f{i:03d}.txt").write_text(str(i))
    hub.seed("groot/ds", src)
    api = HfApi(endpoint=hub.url, token=hub.token)
    hub.server.clear_requests()
    assert len(_listing(api)) == len(_listing(api, expand=True)) == TREE_EXPAND_PAGE_SIZE + 5
    sizes = [r.extra["tree_page"]["entries"] for r in hub.server.recorded("GET", "/tree/")]
    assert sizes == [TREE_EXPAND_PAGE_SIZE + 5, TREE_EXPAND_PAGE_SIZE, 5]


def test_a_cursor_keeps_listing_the_commit_of_the_first_page(hub, raw_dataset):
    from huggingface_hub import HfApi

    first = hub.seed("groot/ds", raw_dataset)
    api = HfApi(endpoint=hub.url, token=hub.token)
    before = [path for _, path in _listing(api, recursive=True)]
    hub.server.tree_page_size = 3
    page, next_url = _get_page(f"{hub.url}/api/datasets/groot/ds/tree/main?recursive=true")
    assert next_url is not None
    # Sorts first: were the second page read from the new head, every offset would shift by one.
    api.upload_file(path_or_fileobj=b"new", path_in_repo="AAA.txt", repo_id="groot/ds", repo_type="dataset")
    seen = [e["path"] for e in page]
    while next_url:
        assert _cursor_of(next_url)["commit"] == first
        page, next_url = _get_page(next_url)
        seen += [e["path"] for e in page]
    assert seen == before
    assert _listing(api, recursive=True)[0] == ("RepoFile", "AAA.txt")


def test_a_bad_cursor_is_a_400_that_says_so(hub, raw_dataset):
    hub.seed("groot/ds", raw_dataset)
    hub.server.tree_page_size = 3
    root = f"{hub.url}/api/datasets/groot/ds/tree/main?recursive=true"
    _, next_url = _get_page(root)
    assert next_url is not None
    good = _cursor_of(next_url)
    _, videos_next = _get_page(f"{hub.url}/api/datasets/groot/ds/tree/main/videos?recursive=true")
    assert videos_next is not None

    def forged(**changes: object) -> str:
        return base64.urlsafe_b64encode(json.dumps({**good, **changes}).encode()).decode().rstrip("=")

    # Re-encoding the cursor unchanged is still accepted: the failures below are about the change.
    assert _get_page(_with_cursor(root, forged()))[0] == _get_page(next_url)[0]
    bad = {
        "not base64 json": "%%not-a-cursor%%",
        "empty": "",
        "json but not an object": base64.urlsafe_b64encode(b"[1, 2]").decode(),
        "offset past the end": forged(offset=10_000),
        "offset not a number": forged(offset="3"),
        "unknown commit": forged(commit="0" * 40),
        "another listing": urllib.parse.parse_qs(urllib.parse.urlsplit(videos_next).query)["cursor"][0],
    }
    for why, cursor in bad.items():
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(_with_cursor(root, cursor))
        assert err.value.code == 400, why
        assert err.value.headers["X-Error-Message"].startswith("Invalid cursor"), why
