"""Idempotent upload of an export folder to the Hub, then a ``step-N`` tag on the resulting commit.

Before anything is sent, the local files' oids (sha256 for LFS files, git blob sha1 otherwise) are
compared with the remote tree: identical content means no upload and no commit at all, so a
re-run of the publish stage costs a handful of read-only requests.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from groot_ops.errors import GrootOpsError, InputError
from groot_ops.hub.retry import hub_failures
from groot_ops.hub.target import HubRetryOptions, HubTarget

if TYPE_CHECKING:
    from typing_extensions import Unpack

# The Hub keeps this file in every repo it creates; it is not part of what we publish.
HUB_MANAGED = frozenset({".gitattributes"})


def local_oids(folder: Path) -> dict[str, dict[str, Any]]:
    """Relative path -> {size, sha256, git_oid} for every file under ``folder`` (hidden dirs skipped)."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if not path.is_file() or any(part.startswith(".") for part in rel.split("/")):
            continue
        sha256, sha1 = hashlib.sha256(), hashlib.sha1()
        size = path.stat().st_size
        sha1.update(b"blob %d\0" % size)
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                sha256.update(chunk)
                sha1.update(chunk)
        out[rel] = {"size": size, "sha256": sha256.hexdigest(), "git_oid": sha1.hexdigest()}
    return out


def changed_files(local: dict[str, dict[str, Any]], remote: dict[str, dict[str, Any]]) -> list[str]:
    """Local files whose content differs from (or is absent in) the remote tree."""
    out = []
    for path, meta in local.items():
        entry = remote.get(path)
        if entry is None:
            out.append(path)
        elif entry.get("lfs_oid"):
            if entry["lfs_oid"] != meta["sha256"]:
                out.append(path)
        elif entry.get("oid") != meta["git_oid"]:
            out.append(path)
    return out


def _remote_tree(api: Any, repo_id: str, revision: str) -> dict[str, dict[str, Any]]:
    from huggingface_hub.hf_api import RepoFile

    tree = {}
    for entry in api.list_repo_tree(repo_id, revision=revision, recursive=True):
        if isinstance(entry, RepoFile) and entry.path not in HUB_MANAGED:
            tree[entry.path] = {"oid": entry.blob_id, "lfs_oid": entry.lfs.sha256 if entry.lfs else None}
    return tree


def publish_folder(
    folder: str,
    repo_id: str,
    *,
    token: str,
    private: bool = True,
    tag: str | None = None,
    commit_message: str = "",
    check: bool = False,
    revision: str = "main",
    **hub_options: Unpack[HubRetryOptions],
) -> dict[str, Any]:
    """Make ``repo_id`` at ``revision`` hold exactly ``folder``; tag the commit with ``tag``.

    Returns ``changed, commit, tag, uploaded_files, uploaded_bytes, deleted_files, created, url,
    private, summary, diff``. Identical remote content: no upload, no commit (``commit`` is the current
    head). With ``private`` (the default) an existing public repo is refused: only ``private=False``,
    the recipe's explicit ``hub.private: false``, publishes publicly. An existing private repo stays
    private either way.
    """
    hub = HubTarget.from_params({**hub_options, "token": token})
    with hub_failures(repo_id, hub.endpoint_url):
        return _publish(
            folder,
            repo_id,
            hub=hub,
            private=private,
            tag=tag,
            commit_message=commit_message,
            check=check,
            revision=revision,
        )


def _publish(
    folder: str,
    repo_id: str,
    *,
    hub: HubTarget,
    private: bool,
    tag: str | None,
    commit_message: str,
    check: bool,
    revision: str,
) -> dict[str, Any]:
    from huggingface_hub.errors import RepositoryNotFoundError

    source = Path(folder)
    if not source.is_dir():
        raise InputError("folder to publish does not exist", path=str(source))
    if not hub.token:
        raise InputError(f"publishing to {repo_id} needs a Hub token (from the vault)")
    if "/" not in repo_id:
        raise InputError(f"Hub repo must be namespace/name, got {repo_id!r}")
    local = local_oids(source)
    if not local:
        raise InputError("folder to publish is empty", path=str(source))
    api = hub.api()

    def retry(what: str, func: Any) -> Any:
        return hub.retry(what, repo_id, func)

    try:
        info = retry("repo lookup", lambda: api.repo_info(repo_id, revision=revision))
        head: str | None = info.sha
        remote_private: bool | None = info.private
        pinned = info.sha or revision
        remote = retry("tree listing", lambda: _remote_tree(api, repo_id, pinned))
    except RepositoryNotFoundError:
        head, remote_private, remote = None, None, {}
    _refuse_public(repo_id, private=private, remote_private=remote_private)
    to_upload = changed_files(local, remote)
    to_delete = sorted(set(remote) - set(local))
    content_changed = bool(to_upload or to_delete) or head is None
    url = f"{api.endpoint}/{repo_id}"
    result: dict[str, Any] = {
        "url": url,
        "tag": tag,
        "created": head is None,
        "private": private if head is None else remote_private,
        "uploaded_files": to_upload,
        "uploaded_bytes": sum(local[p]["size"] for p in to_upload),
        "deleted_files": to_delete,
        "diff": _diff(local, remote, set(to_upload)),
    }
    if check:
        changed = content_changed or _tag_missing(api, repo_id, tag, head, retry)
        return {
            **result,
            "changed": changed,
            "commit": head,
            "summary": _summary(repo_id, tag, head, to_upload, changed, check=True),
        }
    commit = head
    if content_changed:
        if head is None:
            retry("create repo", lambda: api.create_repo(repo_id, private=private, exist_ok=True))
            # Someone may have created it, public, since the lookup: create_repo(exist_ok) keeps it so.
            created = retry("repo lookup", lambda: api.repo_info(repo_id))
            _refuse_public(repo_id, private=private, remote_private=created.private)
        uploaded = retry(
            "upload",
            lambda: api.upload_folder(
                folder_path=str(source),
                repo_id=repo_id,
                revision=revision,
                commit_message=commit_message or f"groot-ops publish {tag or ''}".strip(),
                delete_patterns=["*"],
            ),
        )
        commit = uploaded.oid
    tag_changed = _ensure_tag(api, repo_id, tag, commit, retry)
    uploaded = to_upload if content_changed else []
    return {
        **result,
        "changed": content_changed or tag_changed,
        "commit": commit,
        "uploaded_files": uploaded,
        "summary": _summary(repo_id, tag, commit, uploaded, content_changed or tag_changed, check=False),
    }


def _refuse_public(repo_id: str, *, private: bool, remote_private: bool | None) -> None:
    """A private recipe never publishes into a public repo; only ``private: false`` allows public."""
    if private and remote_private is False:
        raise InputError(
            f"Hub repo {repo_id} exists and is public, but the recipe asks for a private repo "
            "(hub.private: true, the default): make the repo private on the Hub, or set hub.private: false "
            "in the recipe to publish this model publicly"
        )


def _summary(
    repo_id: str, tag: str | None, commit: str | None, uploaded: list[str], changed: bool, *, check: bool
) -> str:
    """One line for the report: what was (or would be) sent and tagged, or that nothing changed."""
    if not changed:
        return f"{repo_id} {tag or ''}: up to date at commit {commit}".replace("  ", " ")
    verb = "would upload" if check else "uploaded"
    where = f", commit {commit}" if commit and not check else ""
    return f"{repo_id} {tag or ''}: {verb} {len(uploaded)} files{where}".replace("  ", " ")


def _diff(local: dict[str, dict[str, Any]], remote: dict[str, dict[str, Any]], changed: set[str]) -> dict:
    """Remote oid per path before, and after the upload; unchanged files keep their remote oid so that
    only real changes show (the remote lists git oids for regular files, the local side has sha256)."""
    before = {p: m.get("lfs_oid") or m["oid"] for p, m in sorted(remote.items())}
    after = {p: (m["sha256"] if p in changed else before[p]) for p, m in sorted(local.items())}
    return {"before": before, "after": after}


def _tag_target(api: Any, repo_id: str, tag: str, retry: Any) -> str | None:
    refs = retry("list refs", lambda: api.list_repo_refs(repo_id))
    for ref in refs.tags:
        if ref.name == tag:
            return ref.target_commit
    return None


def _tag_missing(api: Any, repo_id: str, tag: str | None, head: str | None, retry: Any) -> bool:
    if tag is None:
        return False
    if head is None:
        return True
    return _tag_target(api, repo_id, tag, retry) != head


def _ensure_tag(api: Any, repo_id: str, tag: str | None, commit: str | None, retry: Any) -> bool:
    if tag is None or commit is None:
        return False
    existing = _tag_target(api, repo_id, tag, retry)
    if existing == commit:
        return False
    if existing is not None:
        raise GrootOpsError(
            f"tag {tag} of {repo_id} already points at {existing}, not at the uploaded commit {commit}: "
            "a different model was published under this step; pick another tag or delete the old one"
        )
    retry("create tag", lambda: api.create_tag(repo_id, tag=tag, revision=commit))
    return True
