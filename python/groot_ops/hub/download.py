"""Download a Hub dataset at a pinned revision, recording the commit SHA it resolved to.

The marker ``<local_dir>/.groot_ops_download.json`` holds what was fetched (repo, revision, sha,
patterns, file sizes). A re-run whose revision still resolves to the same sha and whose files are
all present does no file transfer and reports ``changed: False``.

Every Hub call retries within the target's time budget (:mod:`groot_ops.hub.retry`); the lines of
those retries are returned as ``retries`` and, on failure, attached to the error (``retry_lines``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from groot_ops.atomic import write_json
from groot_ops.errors import GrootOpsError, InputError
from groot_ops.hub.retry import HubIncompleteDownload, hub_failures
from groot_ops.hub.target import HubOptions, HubTarget

if TYPE_CHECKING:
    from typing_extensions import Unpack

MARKER = ".groot_ops_download.json"


def camera_patterns(ego_camera: str | None) -> list[str] | None:
    """Patterns that keep metadata, tabular data and one camera (LeRobot v2.1 and v3.0 layouts)."""
    if not ego_camera:
        return None
    if "/" in ego_camera or "*" in ego_camera:
        raise InputError(f"ego_camera must be a camera name such as cam_left_high, got {ego_camera!r}")
    key = f"observation.images.{ego_camera}"
    return ["meta/**", "data/**", f"videos/chunk-*/{key}/**", f"videos/{key}/**"]


def check_subfolder(subfolder: str | None) -> str | None:
    """A repo sub-folder as a clean relative path (``a/b``), or None; anything that escapes is refused."""
    if subfolder is None or not str(subfolder).strip():
        return None
    clean = str(subfolder).strip().strip("/")
    parts = clean.split("/")
    if any(part in ("", ".", "..") for part in parts) or "*" in clean or "\\" in clean:
        raise InputError(f"subfolder must be a folder of the repo such as unitree_g1.Task, got {subfolder!r}")
    return clean


def dataset_patterns(ego_camera: str | None, subfolder: str | None) -> list[str] | None:
    """What to fetch: the camera filter, inside the sub-folder when one is named (nothing else)."""
    inner = camera_patterns(ego_camera)
    folder = check_subfolder(subfolder)
    if folder is None:
        return inner
    return [f"{folder}/{pattern}" for pattern in inner] if inner else [f"{folder}/**"]


def _select(paths_sizes: list[tuple[str, int]], patterns: list[str] | None) -> list[tuple[str, int]]:
    from huggingface_hub.utils import filter_repo_objects

    return list(filter_repo_objects(paths_sizes, allow_patterns=patterns, key=lambda item: item[0]))


def _resolve(names: Sequence[str], revision: str, *, repo_type: str, hub: HubTarget) -> tuple[str, str]:
    """Return (name that resolved, commit sha); a missing repo moves on to the next alias."""
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    api = hub.api()

    def lookup(name: str) -> Any:
        return api.repo_info(name, repo_type=repo_type, revision=revision)

    for name in names:
        try:
            info = hub.retry("revision lookup", name, functools.partial(lookup, name))
        except RevisionNotFoundError:
            raise InputError(
                f"revision {revision!r} does not exist in {repo_type} repo {name} on {hub.endpoint_url}"
            ) from None
        except RepositoryNotFoundError:
            continue
        if not info.sha:
            raise GrootOpsError(f"the Hub returned no commit sha for {name}@{revision}")
        return name, info.sha
    raise InputError(
        f"{repo_type} repo not found on {hub.endpoint_url}: tried {', '.join(names)} "
        "(a private repo also needs the vault token)"
    )


def _read_marker(local_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((local_dir / MARKER).read_text())
    except (FileNotFoundError, ValueError):
        return None


def _files_present(local_dir: Path, files: list[dict[str, Any]]) -> bool:
    for item in files:
        path = local_dir / item["path"]
        if not path.is_file() or path.stat().st_size != item["size"]:
            return False
    return True


def download_dataset(
    repo_id: str,
    revision: str,
    local_dir: str,
    *,
    aliases: Sequence[str] = (),
    repo_type: str = "dataset",
    ego_camera: str | None = None,
    subfolder: str | None = None,
    check: bool = False,
    **hub_options: Unpack[HubOptions],
) -> dict[str, Any]:
    """Fetch ``repo_id`` (or the first alias that exists) at ``revision`` into ``local_dir``.

    Returns ``changed, repo_id (the name that resolved), requested_repo_id, revision, sha,
    local_dir, files, bytes, patterns, endpoint, retries, diff``. In check mode only read-only API
    calls are made. With ``subfolder`` only that folder of the repo is fetched (into
    ``local_dir/<subfolder>``); a folder that does not exist at the resolved commit is an
    :class:`InputError` naming repo, revision, commit and folder. ``hub_options``: endpoint, token and
    retry budget (:class:`~groot_ops.hub.target.HubOptions`).
    """
    hub = HubTarget.from_params(hub_options)
    try:
        with hub_failures(repo_id, hub.endpoint_url):
            result = _download(
                repo_id,
                revision,
                Path(local_dir),
                aliases=aliases,
                hub=hub,
                repo_type=repo_type,
                ego_camera=ego_camera,
                subfolder=subfolder,
                check=check,
            )
    except GrootOpsError as exc:
        exc.retry_lines = hub.retry_lines  # type: ignore[attr-defined]
        raise
    return {**result, "endpoint": hub.endpoint_url, "retries": hub.retry_lines}


def _download(
    repo_id: str,
    revision: str,
    target: Path,
    *,
    aliases: Sequence[str],
    hub: HubTarget,
    repo_type: str,
    ego_camera: str | None,
    subfolder: str | None,
    check: bool,
) -> dict[str, Any]:
    if not repo_id or not revision:
        raise InputError("download_dataset needs both repo_id and a pinned revision (branch, tag or sha)")
    if target.exists() and not target.is_dir():
        raise InputError("download target exists and is not a directory", path=str(target))
    patterns = dataset_patterns(ego_camera, subfolder)
    folder = check_subfolder(subfolder)
    names = [repo_id, *[a for a in aliases if a and a != repo_id]]
    name, sha = _resolve(names, revision, repo_type=repo_type, hub=hub)
    before = _read_marker(target)
    wanted = {"repo_id": name, "revision": revision, "sha": sha, "patterns": patterns}
    result: dict[str, Any] = {
        "repo_id": name,
        "requested_repo_id": repo_id,
        "revision": revision,
        "sha": sha,
        "local_dir": str(target),
        "patterns": patterns,
    }
    before_summary = {k: before.get(k) for k in wanted} if before else None
    if (
        before
        and all(before.get(k) == v for k, v in wanted.items())
        and _files_present(target, before["files"])
    ):
        return {
            **result,
            "changed": False,
            "files": len(before["files"]),
            "bytes": sum(f["size"] for f in before["files"]),
            "removed": [],
            "diff": {"before": before_summary, "after": before_summary},
        }
    files = _list_files(name, sha, patterns, repo_type, hub)
    if not files and folder is not None:
        raise InputError(
            f"sub-folder {folder!r} does not exist in {repo_type} repo {name} at revision {revision} "
            f"(commit {sha}) on {hub.endpoint_url}"
        )
    if not files:
        raise InputError(f"nothing to download from {name}@{sha}: no file matches {patterns}")
    total = sum(f["size"] for f in files)
    if not check:
        _snapshot(name, sha, target, patterns, repo_type, hub, files)
        missing = [f["path"] for f in files if not (target / f["path"]).is_file()]
        if missing:
            raise GrootOpsError(f"download of {name}@{sha} is incomplete, missing: {', '.join(missing[:10])}")
        stale = _remove_stale(target, before, files)
        write_json(target / MARKER, {**wanted, "requested_repo_id": repo_id, "files": files})
    else:
        stale = _stale_paths(before, files)
    return {
        **result,
        "changed": True,
        "files": len(files),
        "bytes": total,
        "removed": stale,
        "diff": {"before": before_summary, "after": wanted},
    }


def _stale_paths(before: dict[str, Any] | None, files: list[dict[str, Any]]) -> list[str]:
    if not before:
        return []
    keep = {f["path"] for f in files}
    return sorted(f["path"] for f in before.get("files", []) if f["path"] not in keep)


def _remove_stale(target: Path, before: dict[str, Any] | None, files: list[dict[str, Any]]) -> list[str]:
    """Delete files an earlier download recorded that the new commit no longer has.

    Left in place they would be read as part of the dataset (an episode deleted upstream would
    come back in training). Only files this module recorded are touched.
    """
    stale = _stale_paths(before, files)
    for rel in stale:
        (target / rel).unlink(missing_ok=True)
    return stale


def _list_files(
    name: str, sha: str, patterns: list[str] | None, repo_type: str, hub: HubTarget
) -> list[dict[str, Any]]:
    from huggingface_hub.hf_api import RepoFile

    api = hub.api()

    def listing() -> list[tuple[str, int]]:
        entries = api.list_repo_tree(name, revision=sha, repo_type=repo_type, recursive=True)
        return [(e.path, e.size) for e in entries if isinstance(e, RepoFile)]

    pairs = hub.retry("tree listing", name, listing)
    return [{"path": path, "size": size} for path, size in sorted(_select(pairs, patterns))]


def _snapshot(
    name: str,
    sha: str,
    target: Path,
    patterns: list[str] | None,
    repo_type: str,
    hub: HubTarget,
    files: list[dict[str, Any]],
) -> None:
    from huggingface_hub import snapshot_download

    def fetch() -> str:
        # Pinned to the sha, not the branch: a push during the download cannot mix two commits.
        folder = snapshot_download(
            repo_id=name,
            repo_type=repo_type,
            revision=sha,
            local_dir=str(target),
            allow_patterns=patterns,
            token=hub.token,
            endpoint=hub.endpoint,
        )
        # With the Hub gone after a partial download, the client returns the local dir as it is (only a
        # log warning says so): that is an unreachable Hub to wait for, not a finished download.
        missing = [f["path"] for f in files if not (target / f["path"]).is_file()]
        if missing:
            raise HubIncompleteDownload(
                f"{len(missing)} of {len(files)} files not fetched (first: {missing[0]}): "
                "the Hub could not be reached"
            )
        return folder

    hub.retry("snapshot download", name, fetch)
