"""download_dataset against the test Hub with the real huggingface_hub client."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from groot_ops.errors import GrootOpsError, InputError
from groot_ops.hub.download import MARKER, download_dataset


def _files(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and ".cache" not in p.parts
    )


def test_pinned_download_records_sha_and_rerun_transfers_nothing(hub_any, raw_dataset, tmp_path):
    sha = hub_any.seed("unitreerobotics/G1_Fold_Towel", raw_dataset, tags=["v1.0"])
    out = tmp_path / "raw" / "fold"

    first = download_dataset("unitreerobotics/G1_Fold_Towel", "v1.0", str(out), endpoint=hub_any.url)

    assert (
        first["changed"] is True
        and first["sha"] == sha
        and first["repo_id"] == "unitreerobotics/G1_Fold_Towel"
    )
    assert _files(out) == sorted([*_files(raw_dataset), MARKER])
    marker = json.loads((out / MARKER).read_text())
    assert marker["sha"] == sha and marker["revision"] == "v1.0"
    # The snapshot itself was pinned to the commit, never to the moving tag.
    resolves = hub_any.server.recorded("GET", "/resolve/")
    assert resolves and all(f"/resolve/{sha}/" in r.path for r in resolves)

    hub_any.server.clear_requests()
    again = download_dataset("unitreerobotics/G1_Fold_Towel", "v1.0", str(out), endpoint=hub_any.url)
    assert again["changed"] is False and again["sha"] == sha
    assert not hub_any.server.recorded(path_regex="/resolve/|/tree/")


def test_ego_camera_fetches_only_meta_data_and_that_camera(hub, raw_dataset, tmp_path):
    hub.seed("unitreerobotics/G1_Fold_Towel", raw_dataset)
    out = tmp_path / "fold"
    result = download_dataset(
        "unitreerobotics/G1_Fold_Towel", "main", str(out), endpoint=hub.url, ego_camera="cam_left_high"
    )
    got = _files(out)
    assert result["files"] == 6 and len(got) == 7
    assert not [p for p in got if "cam_right_high" in p or p == "README.md"]
    assert [p for p in got if "cam_left_high" in p]


def test_v30_camera_layout_is_selected(hub, tmp_path):
    src = tmp_path / "v30"
    for rel in (
        "meta/info.json",
        "data/chunk-000/file-000.parquet",
        "videos/observation.images.cam_left_high/chunk-000/file-000.mp4",
        "videos/observation.images.cam_left_wrist/chunk-000/file-000.mp4",
    ):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(rel.encode())
    hub.seed("unitreerobotics/G1_v30", src)
    out = tmp_path / "out"
    download_dataset("unitreerobotics/G1_v30", "main", str(out), endpoint=hub.url, ego_camera="cam_left_high")
    assert "videos/observation.images.cam_left_high/chunk-000/file-000.mp4" in _files(out)
    assert not [p for p in _files(out) if "wrist" in p]


def test_check_mode_reports_without_writing(hub, raw_dataset, tmp_path):
    sha = hub.seed("unitreerobotics/G1_Fold_Towel", raw_dataset)
    out = tmp_path / "fold"
    result = download_dataset("unitreerobotics/G1_Fold_Towel", "main", str(out), endpoint=hub.url, check=True)
    assert result["changed"] is True and result["sha"] == sha
    assert result["files"] == 9 and result["bytes"] == sum(
        p.stat().st_size for p in raw_dataset.rglob("*") if p.is_file()
    )
    assert not out.exists()
    assert not hub.server.recorded("GET", "/resolve/")


def test_alias_resolves_renamed_repo_and_says_which(hub, raw_dataset, tmp_path):
    sha = hub.seed("unitreerobotics/G1_Dex1_FoldTowel_Dataset", raw_dataset)
    result = download_dataset(
        "unitreerobotics/G1_Fold_Towel",
        "main",
        str(tmp_path / "fold"),
        aliases=["unitreerobotics/G1_Dex1_FoldTowel_Dataset"],
        endpoint=hub.url,
    )
    assert result["repo_id"] == "unitreerobotics/G1_Dex1_FoldTowel_Dataset"
    assert result["requested_repo_id"] == "unitreerobotics/G1_Fold_Towel" and result["sha"] == sha


def test_unknown_repo_and_revision_fail_clearly(hub, raw_dataset, tmp_path):
    hub.seed("unitreerobotics/G1_Fold_Towel", raw_dataset)
    with pytest.raises(InputError, match="tried unitreerobotics/nope, unitreerobotics/nope2"):
        download_dataset(
            "unitreerobotics/nope",
            "main",
            str(tmp_path / "a"),
            aliases=["unitreerobotics/nope2"],
            endpoint=hub.url,
            max_retries=0,
        )
    with pytest.raises(
        InputError, match="revision 'v9' does not exist in dataset repo unitreerobotics/G1_Fold"
    ):
        download_dataset("unitreerobotics/G1_Fold_Towel", "v9", str(tmp_path / "b"), endpoint=hub.url)


def test_private_repo_needs_the_token(hub, raw_dataset, tmp_path):
    hub.seed("groot/private-ds", raw_dataset, private=True)
    with pytest.raises(InputError, match="private repo also needs the vault token"):
        download_dataset("groot/private-ds", "main", str(tmp_path / "a"), endpoint=hub.url)
    ok = download_dataset("groot/private-ds", "main", str(tmp_path / "b"), endpoint=hub.url, token=hub.token)
    assert ok["changed"] is True


def test_retries_429_and_500_then_succeeds(hub, raw_dataset, tmp_path):
    sha = hub.seed("unitreerobotics/G1_Fold_Towel", raw_dataset)
    hub.server.clear_requests()
    hub.server.inject("GET", r"/revision/", status=429, times=2)
    hub.server.inject("GET", r"/tree/", status=500, times=1)
    result = download_dataset(
        "unitreerobotics/G1_Fold_Towel", "main", str(tmp_path / "a"), endpoint=hub.url, backoff_s=0.05
    )
    assert result["sha"] == sha
    statuses = [r.status for r in hub.server.recorded("GET", "/revision/")]
    assert statuses[:3] == [429, 429, 200]


def test_dropped_connection_mid_get_resumes(hub, raw_dataset, tmp_path):
    hub.seed("unitreerobotics/G1_Fold_Towel", raw_dataset)
    hub.server.clear_requests()
    fault = hub.server.inject("GET", r"/resolve/.*episode_000001\.parquet$", mode="drop")
    out = tmp_path / "a"
    download_dataset("unitreerobotics/G1_Fold_Towel", "main", str(out), endpoint=hub.url, backoff_s=0.05)
    rel = "data/chunk-000/episode_000001.parquet"
    assert fault.hits == 1
    assert (out / rel).read_bytes() == (raw_dataset / rel).read_bytes()
    gets = hub.server.recorded("GET", r"episode_000001\.parquet$")
    assert len(gets) >= 2 and gets[0].sent_bytes < (raw_dataset / rel).stat().st_size


def test_drop_after_the_first_chunk_resumes_with_range(hub, tmp_path):
    from huggingface_hub import constants

    # The client writes whole DOWNLOAD_CHUNK_SIZE chunks; half of this file is more than one chunk,
    # so after the drop it holds bytes to keep and must ask for the rest with a Range request.
    src = tmp_path / "big"
    big = src / "data" / "chunk-000" / "episode_000000.parquet"
    big.parent.mkdir(parents=True)
    big.write_bytes(os.urandom(int(constants.DOWNLOAD_CHUNK_SIZE * 2.2)))
    hub.seed("unitreerobotics/big", src)
    fault = hub.server.inject("GET", r"/resolve/.*episode_000000\.parquet$", mode="drop")
    out = tmp_path / "out"
    download_dataset("unitreerobotics/big", "main", str(out), endpoint=hub.url, backoff_s=0.05)
    assert fault.hits == 1
    assert (out / "data/chunk-000/episode_000000.parquet").read_bytes() == big.read_bytes()
    gets = hub.server.recorded("GET", r"episode_000000\.parquet$")
    assert gets[-1].status == 206 and gets[-1].headers["range"] == f"bytes={constants.DOWNLOAD_CHUNK_SIZE}-"


def test_new_commit_updates_files_and_removes_what_upstream_deleted(hub, raw_dataset, tmp_path):
    from huggingface_hub import HfApi

    first = hub.seed("unitreerobotics/G1_Fold_Towel", raw_dataset)
    out = tmp_path / "fold"
    download_dataset("unitreerobotics/G1_Fold_Towel", "main", str(out), endpoint=hub.url)
    (out / "notes.txt").write_text("operator file, not ours")
    gone = "data/chunk-000/episode_000001.parquet"
    second = HfApi(endpoint=hub.url, token=hub.token).delete_file(
        gone, "unitreerobotics/G1_Fold_Towel", repo_type="dataset"
    )
    check = download_dataset("unitreerobotics/G1_Fold_Towel", "main", str(out), endpoint=hub.url, check=True)
    assert check["changed"] is True and check["removed"] == [gone] and (out / gone).exists()
    result = download_dataset("unitreerobotics/G1_Fold_Towel", "main", str(out), endpoint=hub.url)
    assert result["sha"] == second.oid != first and result["removed"] == [gone]
    assert not (out / gone).exists() and (out / "notes.txt").exists()


def test_sha_pin_and_malformed_repo_id(hub, raw_dataset, tmp_path):
    sha = hub.seed("unitreerobotics/G1_Fold_Towel", raw_dataset)
    pinned = download_dataset("unitreerobotics/G1_Fold_Towel", sha, str(tmp_path / "a"), endpoint=hub.url)
    assert pinned["sha"] == sha and pinned["revision"] == sha
    with pytest.raises(GrootOpsError, match=rf"Hub {hub.url}: operation on not a/valid//id failed"):
        download_dataset("not a/valid//id", "main", str(tmp_path / "b"), endpoint=hub.url)


def test_target_that_is_a_file_is_refused(hub, raw_dataset, tmp_path):
    hub.seed("unitreerobotics/G1_Fold_Towel", raw_dataset)
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        download_dataset("unitreerobotics/G1_Fold_Towel", "main", str(tmp_path / "f"), endpoint=hub.url)


def test_listing_over_several_pages_downloads_every_file_and_still_filters_cameras(hub, tmp_path):
    src = tmp_path / "wide"
    for rel in ("meta/info.json", "meta/tasks.jsonl", "README.md"):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(rel.encode())
    for ep in range(4):
        data = src / "data" / "chunk-000" / f"episode_{ep:06d}.parquet"
        data.parent.mkdir(parents=True, exist_ok=True)
        data.write_bytes(os.urandom(100 + ep))
        for cam in ("cam_left_high", "cam_right_high", "cam_left_wrist"):
            video = src / "videos" / "chunk-000" / f"observation.images.{cam}" / f"episode_{ep:06d}.mp4"
            video.parent.mkdir(parents=True, exist_ok=True)
            video.write_bytes(os.urandom(200 + ep))
    hub.seed("unitreerobotics/G1_Wide", src)
    everything = _files(src)
    hub.server.tree_page_size = 4
    assert len(everything) == 19

    full = download_dataset("unitreerobotics/G1_Wide", "main", str(tmp_path / "full"), endpoint=hub.url)
    assert full["files"] == 19 and _files(tmp_path / "full") == sorted([*everything, MARKER])
    assert all((tmp_path / "full" / p).read_bytes() == (src / p).read_bytes() for p in everything)
    # 19 files and 8 folders, 4 a page: every listing (the module's, then snapshot_download's) takes 7.
    pages = hub.server.recorded("GET", "/tree/")
    listings = len([r for r in pages if "cursor" not in r.query])
    assert listings == 2 and all(r.status == 200 for r in pages) and len(pages) == 7 * listings
    assert sum(r.extra["tree_page"]["entries"] for r in pages) == 27 * listings

    hub.server.clear_requests()
    out = tmp_path / "ego"
    ego = download_dataset(
        "unitreerobotics/G1_Wide", "main", str(out), endpoint=hub.url, ego_camera="cam_left_high"
    )
    wanted = [p for p in everything if p.startswith(("meta/", "data/")) or "images.cam_left_high/" in p]
    assert len(wanted) == 10 and ego["files"] == 10 and _files(out) == sorted([*wanted, MARKER])
    assert [r for r in hub.server.recorded("GET", "/tree/") if "cursor" in r.query]
