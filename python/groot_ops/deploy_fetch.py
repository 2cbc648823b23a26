"""A model revision from the Hub on the inference host, verified against the Hub's own file hashes.

Standard library only, and no import of the rest of groot_ops at module level: the ``groot_server_model``
module ships this file to the inference host (through ``module_utils/groot_ops_deploy_fetch.py``), which
has python3 and Docker but not this project's package. The laptop only orchestrates: the bytes go from
the Hub to the host.

The Hub protocol used is the read side of ``huggingface_hub`` (``shared/docs/hub-protocol.md``):
``GET /api/models/{repo}/revision/{rev}`` resolves a ref to its commit, the paginated
``/tree/{commit}?recursive=true`` lists every file with its size and hash (``lfs.oid`` = sha256 for LFS
and Xet files, ``oid`` = git blob sha1 otherwise), ``/resolve/{commit}/{path}`` serves the bytes (302 to
a CDN or the Xet bridge on huggingface.co; ``Range`` resumes).

Layout under ``root`` (the host's checkpoint directory, mounted read-only into the server):

- ``<commit>/``: exactly the files of that commit, nothing else;
- ``.groot_ops/<commit>.json``: the manifest: the Hub's hash of every file and the ``stat`` of the file
  when it last matched that hash;
- ``.groot_ops/staging/<commit>/``: downloads in progress (``*.part`` files resume with ``Range``).

Why a second run is cheap: a commit's tree never changes, so the manifest replaces the tree listing, and
a file whose size, mtime, ctime and inode equal those recorded when it last hashed right is not hashed
again. Every write through the file system changes ctime (which no user call can set back), so a
truncated, overwritten or replaced file is re-hashed and repaired. Damage that bypasses the file system
(bit rot, raw device writes) needs ``verify="full"``, which re-hashes everything.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import hashlib
import http.client
import json
import os
import re
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    from groot_ops.errors import GrootOpsError
except ImportError:  # shipped as Ansible module_utils: groot_ops is not installed on the inference host

    class GrootOpsError(Exception):  # type: ignore[no-redef]
        """Stand-in of groot_ops.errors.GrootOpsError where the package is absent."""


COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
META_DIR = ".groot_ops"
MANIFEST_VERSION = 1
CHUNK = 8 << 20
DEFAULT_ENDPOINT = "https://huggingface.co"
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
# A Retry-After longer than this is not waited for within one attempt (the retry budget still applies).
MAX_RETRY_AFTER_S = 300.0
# Network trouble worth a retry; other OSErrors (a full disk) are not.
NETWORK_ERRORS = (urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException)


class HubFetchError(GrootOpsError):
    """The Hub refused or kept failing; the message names the endpoint and the repo, never the token."""


class HubAuthError(HubFetchError):
    """401/403: retrying cannot help."""


class HubNotFound(HubFetchError):
    """404 for the repo, the revision or a file."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a commit as the Hub lists it."""

    path: str
    size: int
    algo: str  # "sha256" (LFS/Xet files) or "git-sha1" (regular files: git blob oid)
    digest: str

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "algo": self.algo, "digest": self.digest}


def _safe_relpath(path: str) -> str:
    """A tree path the Hub returned, refused when it could escape the revision directory."""
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in path:
        raise HubFetchError(f"the Hub listed an unsafe file path {path!r}")
    if parts[0] == META_DIR:
        raise HubFetchError(f"the Hub listed {path!r}, which collides with groot-ops' own {META_DIR}/")
    return path


def remote_file(entry: dict[str, Any]) -> RemoteFile:
    """A tree entry of type file -> RemoteFile (LFS entries carry the sha256 of the content)."""
    path = _safe_relpath(str(entry["path"]))
    lfs = entry.get("lfs")
    if isinstance(lfs, dict) and lfs.get("oid"):
        return RemoteFile(path, int(lfs.get("size", entry.get("size", 0))), "sha256", str(lfs["oid"]))
    return RemoteFile(path, int(entry.get("size", 0)), "git-sha1", str(entry["oid"]))


class _Hasher:
    """sha256 of the content, or git's blob sha1 (``blob <size>\\0`` + content) for regular files."""

    def __init__(self, algo: str, size: int) -> None:
        if algo == "sha256":
            self._h = hashlib.sha256()
        elif algo == "git-sha1":
            self._h = hashlib.sha1(usedforsecurity=False)
            self._h.update(b"blob %d\0" % size)
        else:
            raise HubFetchError(f"unknown hash algorithm {algo!r} in the manifest")

    def update(self, data: bytes) -> None:
        self._h.update(data)

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def file_digest(path: Path, algo: str, size: int) -> str:
    hasher = _Hasher(algo, size)
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def stat_key(st: os.stat_result) -> list[int]:
    """What must stay equal for a verified file to count as unchanged without hashing it again."""
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


class _NoAuthAcrossHosts(urllib.request.HTTPRedirectHandler):
    """Follow redirects, dropping the token when the redirect leaves the Hub's host (CDN, Xet bridge)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if (
            new is not None
            and urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc
        ):
            new.headers.pop("Authorization", None)
            new.unredirected_hdrs.pop("Authorization", None)
        return new


def _retry_after_s(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass
class HubClient:
    """The read side of the Hub over urllib, with retries that outlast rate limits.

    Transient failures (429, 5xx, connection errors, a body cut short) are retried ``max_retries``
    times, waiting ``backoff_s`` doubled each time up to ``max_backoff_s``, or the server's
    ``Retry-After`` when it sends one; a download that made progress starts its count again.
    """

    endpoint: str = DEFAULT_ENDPOINT
    token: str | None = field(default=None, repr=False)
    timeout_s: float = 60.0
    max_retries: int = 8
    backoff_s: float = 2.0
    max_backoff_s: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    requests: int = 0
    retries: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.endpoint = (self.endpoint or DEFAULT_ENDPOINT).rstrip("/")
        self._opener = urllib.request.build_opener(_NoAuthAcrossHosts())

    # -- plumbing -----------------------------------------------------------------------------
    def _request(self, url: str, headers: dict[str, str] | None = None) -> Any:
        req = urllib.request.Request(url, headers={"User-Agent": "groot-ops-deploy", **(headers or {})})
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        self.requests += 1
        return self._opener.open(req, timeout=self.timeout_s)

    def _fail(self, exc: urllib.error.HTTPError, what: str, repo_id: str) -> HubFetchError:
        code = exc.headers.get("X-Error-Code", "") if exc.headers else ""
        message = exc.headers.get("X-Error-Message", "") if exc.headers else ""
        detail = f" ({message})" if message else ""
        where = f"{repo_id} at {self.endpoint}"
        if exc.code in (401, 403):
            return HubAuthError(
                f"{what}: the Hub refused access to {where} (HTTP {exc.code}){detail}; check vault_hf_token"
            )
        if exc.code == 404:
            if code == "RevisionNotFound":
                return HubNotFound(f"{what}: revision not found in {where}{detail}")
            if code == "EntryNotFound":
                return HubNotFound(f"{what}: file not found in {where}{detail}")
            return HubNotFound(
                f"{what}: model repo {where} not found (or private and the token cannot read it){detail}"
            )
        return HubFetchError(f"{what}: HTTP {exc.code} from {where}{detail}")

    def _wait(self, attempt: int, what: str, reason: str, retry_after: float | None) -> None:
        wait = min(self.backoff_s * (2**attempt), self.max_backoff_s)
        if retry_after is not None:
            wait = min(max(wait, retry_after), MAX_RETRY_AFTER_S)
        self.retries.append(f"{what}: {reason}; retry {attempt + 1}/{self.max_retries} in {wait:.0f}s")
        self.sleep(wait)

    def call(self, what: str, repo_id: str, func: Callable[[], Any]) -> Any:
        """``func()`` with the retry budget; HTTP errors become HubFetchError subclasses."""
        attempt = 0
        while True:
            retry_after = None
            try:
                return func()
            except urllib.error.HTTPError as exc:
                if exc.code not in TRANSIENT_STATUS:
                    raise self._fail(exc, what, repo_id) from None
                reason = f"HTTP {exc.code}"
                retry_after = _retry_after_s(exc.headers.get("Retry-After") if exc.headers else None)
            except NETWORK_ERRORS as exc:
                reason = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            if attempt >= self.max_retries:
                raise HubFetchError(
                    f"{what}: the Hub at {self.endpoint} still fails for {repo_id} after "
                    f"{self.max_retries} retries ({reason})"
                )
            self._wait(attempt, what, reason, retry_after)
            attempt += 1

    def _get_json(self, url: str) -> tuple[Any, Any]:
        with self._request(url) as resp:
            body = resp.read()
            try:
                return json.loads(body.decode()), resp.headers
            except ValueError:
                # A proxy's or captive portal's HTML page, not the Hub: say so rather than crash.
                raise HubFetchError(
                    f"{url.split('?')[0]} answered something that is not JSON: {body[:80]!r}"
                ) from None

    # -- the three calls ----------------------------------------------------------------------
    def resolve(self, repo_id: str, revision: str) -> str:
        """The commit ``revision`` (branch, tag or commit) names now."""
        quoted = urllib.parse.quote(revision, safe="")
        url = f"{self.endpoint}/api/models/{repo_id}/revision/{quoted}"
        info, _ = self.call(f"resolve {revision}", repo_id, lambda: self._get_json(url))
        sha = info.get("sha") if isinstance(info, dict) else None
        if not isinstance(sha, str) or not COMMIT_RE.match(sha):
            raise HubFetchError(f"resolve {revision}: {repo_id} at {self.endpoint} answered no commit sha")
        return sha

    def tree(self, repo_id: str, commit: str) -> list[RemoteFile]:
        """Every file of ``commit``, following the listing's ``Link: rel="next"`` pages."""
        url: str | None = f"{self.endpoint}/api/models/{repo_id}/tree/{commit}?recursive=true&expand=false"
        files: list[RemoteFile] = []
        while url is not None:
            entries, headers = self.call("list files", repo_id, functools.partial(self._get_json, url))
            files += [remote_file(e) for e in entries if isinstance(e, dict) and e.get("type") == "file"]
            url = _next_link(headers.get("Link", ""))
        if not files:
            raise HubFetchError(f"{repo_id}@{commit} at {self.endpoint} holds no files")
        return files

    def download(self, repo_id: str, commit: str, remote: RemoteFile, part: Path) -> str:
        """Fetch ``remote`` into ``part``, resuming what is there; returns the digest of the result."""
        url = f"{self.endpoint}/{repo_id}/resolve/{commit}/{urllib.parse.quote(remote.path)}"
        what = f"download {remote.path}"
        part.parent.mkdir(parents=True, exist_ok=True)
        if part.exists() and part.stat().st_size > remote.size:
            part.unlink()
        attempt = 0
        while True:
            have = part.stat().st_size if part.exists() else 0
            if part.exists() and have == remote.size:
                return file_digest(part, remote.algo, remote.size)
            retry_after = None
            try:
                self._fetch_from(url, part, have, remote.size)
                continue
            except urllib.error.HTTPError as exc:
                if exc.code == 416:  # the Range is past the end: the part is wrong, start again
                    part.unlink(missing_ok=True)
                elif exc.code not in TRANSIENT_STATUS:
                    raise self._fail(exc, what, repo_id) from None
                reason = f"HTTP {exc.code}"
                retry_after = _retry_after_s(exc.headers.get("Retry-After") if exc.headers else None)
            except NETWORK_ERRORS as exc:
                reason = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            if (part.stat().st_size if part.exists() else 0) > have:
                attempt = 0  # progress: a flaky link gets a fresh budget for the rest of the file
            attempt = self._next_attempt(attempt, what, repo_id, reason, retry_after)

    def _next_attempt(
        self, attempt: int, what: str, repo_id: str, reason: str, retry_after: float | None
    ) -> int:
        if attempt >= self.max_retries:
            raise HubFetchError(
                f"{what}: the Hub at {self.endpoint} still fails for {repo_id} after "
                f"{self.max_retries} retries ({reason})"
            )
        self._wait(attempt, what, reason, retry_after)
        return attempt + 1

    def _fetch_from(self, url: str, part: Path, have: int, size: int) -> None:
        headers = {"Range": f"bytes={have}-"} if have else {}
        with self._request(url, headers) as resp:
            # A server that ignores the Range answers 200 with the whole file: start it again.
            resumed = bool(have) and resp.status == 206
            got = have if resumed else 0
            with part.open("ab" if resumed else "wb") as out:
                while chunk := resp.read(CHUNK):
                    out.write(chunk)
                    got += len(chunk)
        if got < size:
            raise http.client.IncompleteRead(b"", size - got)


def _next_link(link: str) -> str | None:
    for part in link.split(","):
        match = re.match(r'\s*<([^>]+)>\s*;\s*rel="?next"?', part)
        if match:
            return match.group(1)
    return None


# -- the manifest -------------------------------------------------------------------------------
def manifest_path(root: Path, commit: str) -> Path:
    return root / META_DIR / f"{commit}.json"


def load_manifest(root: Path, repo_id: str, commit: str) -> dict[str, Any] | None:
    """The manifest of ``commit``, or None when absent, unreadable or of another repo (then rebuilt)."""
    try:
        data = json.loads(manifest_path(root, commit).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
        return None
    if (
        data.get("repo_id") != repo_id
        or data.get("commit") != commit
        or not isinstance(data.get("files"), list)
    ):
        return None
    try:
        for entry in data["files"]:
            remote_file({"path": entry["path"], "size": entry["size"], "oid": entry["digest"]})
    except (KeyError, TypeError, ValueError, HubFetchError):
        return None
    return data


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def _local_files(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink()
    )


@contextlib.contextmanager
def _lock(root: Path) -> Iterator[None]:
    """One fetch per host at a time (two plays on one host would race on the staging files)."""
    import fcntl

    (root / META_DIR).mkdir(parents=True, exist_ok=True)
    with (root / META_DIR / "lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _classify(
    folder: Path, files: list[RemoteFile], known: dict[str, Any], full: bool
) -> tuple[dict[str, str], int]:
    """path -> ok|missing|damaged for every file of the commit, and the bytes hashed to know it."""
    status: dict[str, str] = {}
    hashed = 0
    for remote in files:
        path = folder / remote.path
        try:
            st = path.lstat()
        except FileNotFoundError:
            status[remote.path] = "missing"
            continue
        if not path.is_file() or path.is_symlink() or st.st_size != remote.size:
            status[remote.path] = "damaged"
        elif not full and known.get(remote.path) == stat_key(st):
            status[remote.path] = "ok"
        else:
            hashed += st.st_size
            ok = file_digest(path, remote.algo, remote.size) == remote.digest
            status[remote.path] = "ok" if ok else "damaged"
    return status, hashed


def ensure_model(
    repo_id: str,
    revision: str,
    root: str | os.PathLike[str],
    *,
    endpoint: str | None = None,
    token: str | None = None,
    check: bool = False,
    verify: str = "stat",
    client: HubClient | None = None,
) -> dict[str, Any]:
    """Make ``root/<commit>`` hold exactly ``repo_id`` at ``revision``, every file matching the Hub's hash.

    ``verify``: ``stat`` re-hashes only files whose stat changed since they last matched, ``full``
    re-hashes every file. Missing and damaged files are downloaded again (resuming partial downloads),
    files the commit does not have are removed. A new revision is assembled in staging and renamed
    into place; a damaged file of an existing one is replaced by a rename, so the server never reads a
    half-written file.

    Returns ``changed, repo_id, revision, commit, path, files, bytes, downloaded, downloaded_bytes,
    repaired, removed, hashed_bytes, hub_requests, retries, seconds, summary, diff``. ``changed`` is about the
    model's files; refreshing the manifest (a cache of verified stats) alone is not a change.
    """
    if verify not in ("stat", "full"):
        raise HubFetchError(f"verify must be 'stat' or 'full', got {verify!r}")
    if "/" not in repo_id:
        raise HubFetchError(f"model repo must be namespace/name, got {repo_id!r}")
    started = time.monotonic()
    hub = client or HubClient(
        endpoint=endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT, token=token
    )
    base = Path(root)
    commit = revision if COMMIT_RE.match(revision) else hub.resolve(repo_id, revision)
    target = base / commit
    staging = base / META_DIR / "staging" / commit
    manifest = load_manifest(base, repo_id, commit)
    if manifest is not None:
        files = [RemoteFile(e["path"], int(e["size"]), e["algo"], e["digest"]) for e in manifest["files"]]
        known = {e["path"]: e.get("stat") for e in manifest["files"]}
    else:
        files = hub.tree(repo_id, commit)
        known = {}
    existed = target.is_dir()
    # A new revision is checked where an interrupted run left it: its finished files count.
    status, hashed = _classify(
        target if existed else staging, files, known if existed else {}, verify == "full"
    )
    wanted = {f.path for f in files}
    removed = [p for p in _local_files(target) if p not in wanted]
    todo = [f for f in files if status[f.path] != "ok"]
    result: dict[str, Any] = {
        "repo_id": repo_id,
        "revision": revision,
        "commit": commit,
        "path": str(target),
        "files": len(files),
        "bytes": sum(f.size for f in files),
        "downloaded": [f.path for f in todo],
        "downloaded_bytes": sum(f.size for f in todo),
        "repaired": [f.path for f in todo if existed],
        "removed": removed,
        "hashed_bytes": hashed,
        "diff": {
            "before": {f.path: (f.digest if status[f.path] == "ok" else status[f.path]) for f in files}
            | {p: "not in the revision" for p in removed},
            "after": {f.path: f.digest for f in files},
        },
    }
    changed = not existed or bool(todo or removed)
    if check:
        return _finish(result, changed, hub, started, check=True)
    with _lock(base):
        for remote in todo:
            part = staging / f"{remote.path}.part"
            digest = hub.download(repo_id, commit, remote, part)
            if digest != remote.digest:
                part.unlink(missing_ok=True)
                raise HubFetchError(
                    f"download {remote.path}: {repo_id}@{commit} from {hub.endpoint} has {remote.algo} "
                    f"{digest}, the Hub lists {remote.digest}; removed the bad download, run again"
                )
            dest = (target if existed else staging) / remote.path
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(part, dest)
        if not existed:
            staging.mkdir(parents=True, exist_ok=True)
            for stray in [p for p in _local_files(staging) if p not in wanted]:
                (staging / stray).unlink()
            os.replace(staging, target)
        for rel in removed:
            (target / rel).unlink()
        _prune_empty_dirs(target)
        shutil.rmtree(staging, ignore_errors=True)
        _write_json(
            manifest_path(base, commit),
            {
                "version": MANIFEST_VERSION,
                "repo_id": repo_id,
                "commit": commit,
                "files": [{**f.as_dict(), "stat": stat_key((target / f.path).stat())} for f in files],
            },
        )
    return _finish(result, changed, hub, started, check=False)


def _prune_empty_dirs(folder: Path) -> None:
    for path in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        with contextlib.suppress(OSError):
            path.rmdir()


def _summary(result: dict[str, Any], *, check: bool) -> str:
    """One line for the report: what was verified, fetched, repaired and removed."""
    verb = "to fetch" if check else "fetched"
    parts = [
        f"{result['files']} files ({result['bytes']} bytes) checked against the Hub's hashes",
        f"{len(result['downloaded'])} {verb} ({result['downloaded_bytes']} bytes)",
    ]
    if result["repaired"]:
        parts.append(f"{'to repair' if check else 'repaired'} {', '.join(result['repaired'])}")
    if result["removed"]:
        parts.append(f"{'to remove' if check else 'removed'} {', '.join(result['removed'])}")
    parts.append(f"{result['hashed_bytes']} bytes hashed")
    return "; ".join(parts)


def _finish(
    result: dict[str, Any], changed: bool, hub: HubClient, started: float, *, check: bool
) -> dict[str, Any]:
    return {
        **result,
        "summary": _summary(result, check=check),
        "changed": changed,
        "hub_requests": hub.requests,
        "retries": list(hub.retries),
        "seconds": round(time.monotonic() - started, 3),
    }
