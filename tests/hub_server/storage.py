"""Content-addressed storage of the test Hub: repos, commits, refs and blobs in one directory.

Layout under ``root``: ``objects/<oid>`` holds file bytes (git blob sha1 for regular files,
sha256 for LFS files) and ``state.json`` the repos with their commits and refs. A commit oid is
the sha1 of its canonical JSON (parent, message, files), so identical histories get identical
oids, like git. Files uploaded through Xet have no bytes here (they live in the Xet CAS).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from groot_ops.atomic import write_bytes, write_json

LFS_SUFFIXES = (".safetensors", ".parquet", ".mp4", ".png", ".jpg", ".bin", ".pt", ".pth", ".npy", ".arrow")
LFS_MIN_SIZE = 10 * 1024 * 1024
HEX40 = re.compile(r"^[0-9a-f]{40}$")


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def wants_lfs(path: str, size: int, sample: bytes) -> bool:
    return path.endswith(LFS_SUFFIXES) or size >= LFS_MIN_SIZE or b"\0" in sample


class HubError(Exception):
    """An error the server turns into a status code plus ``X-Error-Code``/``X-Error-Message``."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    commits: dict[str, dict[str, Any]] = field(default_factory=dict)

    def resolve(self, revision: str) -> str:
        """Branch, tag, ``refs/heads|tags/...`` or a commit oid of this repo -> commit oid."""
        name = revision
        for prefix in ("refs/heads/", "refs/tags/"):
            if name.startswith(prefix):
                name = name[len(prefix) :]
        if name in self.branches:
            return self.branches[name]
        if name in self.tags:
            return self.tags[name]
        if HEX40.match(name) and name in self.commits:
            return name
        raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")

    def files(self, commit: str) -> dict[str, dict[str, Any]]:
        return self.commits[commit]["files"]


class Storage:
    """Thread-safe repo store persisted to ``root`` (so the standalone server survives restarts)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.objects.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.repos: dict[tuple[str, str], Repo] = {}
        state = self.root / "state.json"
        if state.exists():
            for raw in json.loads(state.read_text())["repos"]:
                repo = Repo(**raw)
                self.repos[(repo.repo_type, repo.repo_id)] = repo

    def save(self) -> None:
        write_json(self.root / "state.json", {"repos": [vars(r) for r in self.repos.values()]})

    def get(self, repo_type: str, repo_id: str) -> Repo:
        repo = self.repos.get((repo_type, repo_id))
        if repo is None:
            raise HubError(404, f"Repository Not Found for url: {repo_type}s/{repo_id}", "RepoNotFound")
        return repo

    def create(self, repo_type: str, repo_id: str, private: bool) -> tuple[Repo, bool]:
        with self.lock:
            existing = self.repos.get((repo_type, repo_id))
            if existing is not None:
                return existing, False
            repo = Repo(repo_type=repo_type, repo_id=repo_id, private=private)
            first = self._new_commit(repo, None, "initial commit", {})
            repo.branches["main"] = first
            self.repos[(repo_type, repo_id)] = repo
            self.save()
            return repo, True

    def _new_commit(self, repo: Repo, parent: str | None, message: str, files: dict[str, Any]) -> str:
        body = {"parent": parent, "message": message, "files": files, "time": time.time()}
        oid = hashlib.sha1(json.dumps(body, sort_keys=True).encode()).hexdigest()
        repo.commits[oid] = body
        return oid

    def has_object(self, oid: str) -> bool:
        return (self.objects / oid).exists()

    def put_object(self, oid: str, data: bytes) -> None:
        if not self.has_object(oid):
            write_bytes(self.objects / oid, data)

    def read_object(self, oid: str) -> bytes:
        path = self.objects / oid
        if not path.exists():
            raise HubError(
                501,
                f"object {oid} was uploaded through Xet and this test Hub cannot serve Xet files over HTTP; "
                "upload with HF_HUB_DISABLE_XET=1 for content that is downloaded again",
            )
        return path.read_bytes()

    def commit(
        self,
        repo: Repo,
        branch: str,
        *,
        message: str,
        parent: str | None,
        regular: dict[str, bytes],
        lfs: dict[str, tuple[str, int]],
        deleted_files: list[str],
        deleted_folders: list[str],
        allow_missing_lfs: bool,
    ) -> str:
        with self.lock:
            if branch not in repo.branches:
                raise HubError(404, f"Invalid rev id: {branch} (commits go to a branch)", "RevisionNotFound")
            head = repo.branches[branch]
            if parent is not None and parent != head:
                raise HubError(412, f"parentCommit {parent} is not the head of {branch} ({head})")
            files = dict(repo.files(head))
            for path in deleted_files:
                if path not in files:
                    raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
                del files[path]
            for folder in deleted_folders:
                prefix = folder.rstrip("/") + "/"
                for path in [p for p in files if p.startswith(prefix)]:
                    del files[path]
            for path, data in regular.items():
                oid = git_blob_oid(data)
                self.put_object(oid, data)
                files[path] = {"oid": oid, "size": len(data), "lfs": None}
            for path, (sha256, size) in lfs.items():
                if not self.has_object(sha256) and not allow_missing_lfs:
                    raise HubError(422, f"LFS object {sha256} for {path} was never uploaded")
                files[path] = {"oid": git_blob_oid(lfs_pointer(sha256, size)), "size": size, "lfs": sha256}
            oid = self._new_commit(repo, head, message, files)
            repo.branches[branch] = oid
            self.save()
            return oid

    def set_ref(self, repo: Repo, kind: str, name: str, commit: str) -> None:
        with self.lock:
            refs = repo.tags if kind == "tag" else repo.branches
            if name in refs:
                raise HubError(409, f"{kind} {name} already exists on {refs[name]}")
            refs[name] = commit
            self.save()

    def delete_repo(self, repo: Repo) -> None:
        with self.lock:
            del self.repos[(repo.repo_type, repo.repo_id)]
            self.save()

    def move_repo(self, repo: Repo, new_id: str) -> None:
        with self.lock:
            if (repo.repo_type, new_id) in self.repos:
                raise HubError(409, f"{new_id} already exists")
            del self.repos[(repo.repo_type, repo.repo_id)]
            repo.repo_id = new_id
            self.repos[(repo.repo_type, new_id)] = repo
            self.save()
