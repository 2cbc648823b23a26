"""The protected set, and the single function through which every disk-guard deletion goes.

A path is refused when it is equal to, inside, or contains a protected path. Both the path as written
(parent resolved) and its fully resolved target are compared against the protected paths as written
and fully resolved, so a symlink pointing into the protected set, or a protected path reached through
a symlinked directory, is refused too.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from groot_ops.disk.config import DiskGuardConfig
from groot_ops.disk.usage import reclaimable_bytes
from groot_ops.errors import GrootOpsError


class ProtectedPathError(GrootOpsError):
    """A deletion would have touched the protected set."""


def _forms(path: str | os.PathLike[str]) -> set[Path]:
    raw = Path(os.path.abspath(os.fspath(path)))
    # The link itself (its parent resolved) and whatever it finally points to.
    lexical = Path(os.path.realpath(raw.parent)) / raw.name if raw.name else raw
    return {raw, lexical, Path(os.path.realpath(raw))}


def _related(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


@dataclass(frozen=True)
class ProtectedSet:
    entries: tuple[tuple[str, str], ...]  # (path as given, why it is protected)

    def reason(self, path: str | os.PathLike[str]) -> str | None:
        """Why ``path`` may not be deleted, or None when it may."""
        candidates = _forms(path)
        for protected, why in self.entries:
            for p in _forms(protected):
                if any(_related(c, p) for c in candidates):
                    return f"{path} overlaps protected {protected} ({why})"
        return None

    def paths(self) -> list[str]:
        return [p for p, _ in self.entries]


def build_protected_set(config: DiskGuardConfig) -> ProtectedSet:
    """Base model cache, running runs' output dirs and the newest resumable and servable checkpoints of
    finished runs,
    exports, datasets in use, user paths."""
    from groot_ops.disk.checkpoints import newest_complete

    entries: list[tuple[str, str]] = []
    if config.hf_cache:
        for repo_id in config.base_model_repo_ids:
            entries.append((str(Path(config.hf_cache) / _cache_folder("model", repo_id)), "base model"))
        for repo_id in config.dataset_repo_ids:
            entries.append((str(Path(config.hf_cache) / _cache_folder("dataset", repo_id)), "dataset in use"))
    for run in config.all_runs():
        if run.state == "running":
            # A save may be in flight in there; no step has any business inside a running run.
            entries.append((run.output_dir, "output dir of a running run"))
            continue
        # The newest resumable and the newest servable checkpoint (they differ after a crash between
        # trainer_state.json and the processor copy): resume needs one, publish the other.
        for newest in newest_complete(Path(run.output_dir)):
            entries.append((str(newest), "newest complete checkpoint"))
    if config.exports_dir:
        entries.append((config.exports_dir, "exported models"))
    entries.extend((p, "dataset in use") for p in config.datasets_in_use)
    entries.extend((p, "listed by the user") for p in config.protected_paths)
    return ProtectedSet(tuple(entries))


def _cache_folder(repo_type: str, repo_id: str) -> str:
    return f"{repo_type}s--{repo_id.replace('/', '--')}"


def remove_paths(
    paths: Iterable[str | os.PathLike[str]],
    protected: ProtectedSet,
    *,
    check: bool,
    action: Callable[[], None] | None = None,
    counted: set[tuple[int, int]] | None = None,
) -> int:
    """Delete ``paths`` (or let ``action`` delete exactly them) after checking each against ``protected``.

    Every deletion of the disk guard goes through here. All paths are checked before anything is
    deleted, so a refused path aborts the whole group. Returns the bytes freed (would be freed in
    check mode; ``counted`` carries the inodes already counted by earlier dry-run steps).
    """
    listed = [Path(p) for p in paths]
    for path in listed:
        why = protected.reason(path)
        if why is not None:
            raise ProtectedPathError(f"refusing to delete: {why}")
    freed = reclaimable_bytes(listed, counted=counted if check else None)
    if check:
        return freed
    if action is not None:
        action()
        return freed
    for path in listed:
        if path.is_symlink() or not path.is_dir():
            path.unlink(missing_ok=True)
        else:
            shutil.rmtree(path)
    return freed
