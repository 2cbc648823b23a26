"""The ordered cleanup steps of the disk guard.

Each step looks at one kind of reclaimable data, deletes candidates one at a time (cheapest and least
valuable first) through :func:`groot_ops.disk.protected.remove_paths`, and stops as soon as the
policy's goal is reached. A candidate that overlaps the protected set is skipped and reported, never
deleted. In check mode nothing is deleted and the freed bytes are what would be freed.
"""

from __future__ import annotations

import calendar
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from groot_ops.disk.checkpoints import complete_for_any, newest_complete
from groot_ops.disk.config import DiskGuardConfig
from groot_ops.disk.protected import ProtectedPathError, ProtectedSet, remove_paths

DAY = 86400.0


@dataclass
class StepContext:
    config: DiskGuardConfig
    protected: ProtectedSet
    check: bool
    # Free bytes to reach on the watched filesystem; None: reclaim everything reclaimable.
    goal_free: int | None
    free_before: int
    now: float = field(default_factory=time.time)
    # Check mode cannot measure, so it simulates: bytes that would be freed on the watched filesystem...
    simulated_freed: int = 0
    # ...counting each inode once although several steps may name it (a detached revision, then its repo).
    counted: set[tuple[int, int]] = field(default_factory=set)

    def free_now(self) -> int:
        if self.check:
            return self.free_before + self.simulated_freed
        from groot_ops.disk.usage import disk_usage

        return disk_usage(self.config.watch_path)[1]

    def satisfied(self) -> bool:
        return self.goal_free is not None and self.free_now() >= self.goal_free


@dataclass
class StepResult:
    name: str
    freed_bytes: int = 0
    items: list[str] = field(default_factory=list)
    protected: list[str] = field(default_factory=list)
    skipped: str | None = None
    # Failures that did not stop the policy (a docker engine that does not answer).
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "name": self.name,
            "freed_bytes": self.freed_bytes,
            "items": self.items,
            "protected": self.protected,
        }
        if self.skipped:
            result["skipped"] = self.skipped
        if self.errors:
            result["errors"] = self.errors
        return result


def _same_filesystem(path: Path, watch: str) -> bool:
    try:
        return path.lstat().st_dev == os.stat(watch).st_dev
    except OSError:
        return False


def _delete(
    ctx: StepContext,
    result: StepResult,
    label: str,
    paths: Iterable[Path],
    action: Callable[[], None] | None = None,
) -> None:
    listed = list(paths)
    try:
        freed = remove_paths(listed, ctx.protected, check=ctx.check, action=action, counted=ctx.counted)
    except ProtectedPathError as exc:
        result.protected.append(str(exc))
        return
    except OSError as exc:
        # A read-only mount or a file held by another user: report it and go on with the next candidate.
        result.errors.append(f"{label}: {exc}")
        return
    result.freed_bytes += freed
    result.items.append(label)
    if ctx.check and listed and _same_filesystem(listed[0], ctx.config.watch_path):
        ctx.simulated_freed += freed


# --- Hugging Face cache ---------------------------------------------------------------------------


def _scan_hf_cache(cache_dir: str) -> Any:
    from huggingface_hub import scan_cache_dir

    return scan_cache_dir(cache_dir)


def _hf_unavailable(ctx: StepContext) -> str | None:
    if not ctx.config.hf_cache:
        return "no hf_cache configured"
    if not Path(ctx.config.hf_cache).is_dir():
        return f"hf_cache {ctx.config.hf_cache} does not exist"
    return None


def _strategy_paths(strategy: Any) -> list[Path]:
    paths: set[Path] = set()
    for name in ("repos", "snapshots", "refs", "blobs", "files"):
        paths.update(getattr(strategy, name, ()) or ())
    return sorted(paths)


def step_hf_incomplete(ctx: StepContext) -> StepResult:
    """Interrupted downloads (``blobs/*.incomplete``) old enough not to be in progress."""
    result = StepResult("hf_incomplete")
    result.skipped = _hf_unavailable(ctx)
    if result.skipped:
        return result
    info = _scan_hf_cache(ctx.config.hf_cache or "")
    incomplete = getattr(info, "incomplete_files", None)
    files = (
        [f.file_path for f in incomplete]
        if incomplete is not None
        else list(Path(info.cache_dir).glob("*/blobs/*.incomplete"))
    )
    cutoff = ctx.now - ctx.config.hf_incomplete_min_age_minutes * 60
    for path in sorted(files):
        if ctx.satisfied():
            break
        try:
            if path.stat().st_mtime > cutoff:
                continue
        except FileNotFoundError:
            continue
        _delete(ctx, result, str(path), [path])
    return result


def step_hf_detached_revisions(ctx: StepContext) -> StepResult:
    """Revisions no ref points to any more (superseded by a newer pinned revision)."""
    result = StepResult("hf_detached_revisions")
    result.skipped = _hf_unavailable(ctx)
    if result.skipped:
        return result
    info = _scan_hf_cache(ctx.config.hf_cache or "")
    for repo in sorted(info.repos, key=lambda r: str(r.repo_path)):
        if ctx.satisfied():
            break
        detached = sorted(rev.commit_hash for rev in repo.revisions if not rev.refs)
        if not detached:
            continue
        strategy = info.delete_revisions(*detached)
        label = f"{repo.repo_type}/{repo.repo_id}@{','.join(h[:12] for h in detached)}"
        _delete(ctx, result, label, _strategy_paths(strategy), action=strategy.execute)
    return result


def step_hf_unused_repos(ctx: StepContext) -> StepResult:
    """Whole cached repos outside the protected set, least recently accessed first."""
    result = StepResult("hf_unused_repos")
    result.skipped = _hf_unavailable(ctx)
    if result.skipped:
        return result
    info = _scan_hf_cache(ctx.config.hf_cache or "")
    cutoff = ctx.now - ctx.config.hf_repo_min_idle_days * DAY
    for repo in sorted(info.repos, key=lambda r: (r.last_accessed, str(r.repo_path))):
        if ctx.satisfied():
            break
        if repo.last_accessed > cutoff or not repo.revisions:
            continue
        label = f"{repo.repo_type}/{repo.repo_id}"
        why = ctx.protected.reason(repo.repo_path)
        if why is not None:
            result.protected.append(f"refusing to delete: {why}")
            continue
        strategy = info.delete_revisions(*(rev.commit_hash for rev in repo.revisions))
        _delete(ctx, result, label, _strategy_paths(strategy), action=strategy.execute)
    return result


# --- package caches, quarantine, finished runs, tmp -----------------------------------------------

# Markers that tools recreate or rely on; deleting them frees nothing.
_KEEP_IN_CACHE_DIRS = {"CACHEDIR.TAG", ".lock"}


def step_package_caches(ctx: StepContext) -> StepResult:
    """uv, pip and conda package caches: their contents, not the directories themselves."""
    result = StepResult("package_caches")
    dirs = [*ctx.config.uv_cache_dirs, *ctx.config.pip_cache_dirs, *ctx.config.conda_pkgs_dirs]
    if not dirs:
        result.skipped = "no package cache dirs configured"
        return result
    for cache_dir in map(Path, dirs):
        if not cache_dir.is_dir():
            continue
        for entry in sorted(cache_dir.iterdir()):
            if ctx.satisfied():
                return result
            if entry.name in _KEEP_IN_CACHE_DIRS:
                continue
            _delete(ctx, result, str(entry), [entry])
    return result


def _quarantined(quarantine: Path) -> list[Path]:
    # Layout: .quarantine/<recipe>/checkpoint-N-<timestamp>; tolerate entries placed directly under it.
    found: list[Path] = []
    for entry in quarantine.iterdir():
        if entry.is_dir() and not entry.is_symlink() and not entry.name.startswith("checkpoint-"):
            found.extend(entry.iterdir())
        else:
            found.append(entry)
    return found


_QUARANTINE_STAMP = re.compile(r"-(\d{8}T\d{6}Z)$")


def quarantined_at(path: Path) -> float:
    """When ``path`` was quarantined: the supervisor's UTC stamp in its name, else its mtime.

    A rename keeps the mtime of when the checkpoint was written, which can be days before it was
    quarantined; the later of the two is the quarantine time.
    """
    mtime = path.lstat().st_mtime
    match = _QUARANTINE_STAMP.search(path.name)
    if not match:
        return mtime
    try:
        stamp = calendar.timegm(time.strptime(match.group(1), "%Y%m%dT%H%M%SZ"))
    except ValueError:
        return mtime
    return max(mtime, float(stamp))


def step_quarantine(ctx: StepContext) -> StepResult:
    """Quarantined (incomplete) checkpoints older than ``quarantine_max_age_days``, oldest first."""
    result = StepResult("quarantine")
    quarantine = Path(ctx.config.quarantine_dir) if ctx.config.quarantine_dir else None
    if quarantine is None or not quarantine.is_dir():
        result.skipped = "no quarantine dir"
        return result
    cutoff = ctx.now - ctx.config.quarantine_max_age_days * DAY
    aged = sorted((quarantined_at(p), p) for p in _quarantined(quarantine))
    for mtime, path in aged:
        if ctx.satisfied() or mtime > cutoff:
            break
        _delete(ctx, result, str(path), [path])
    return result


def step_finished_runs(ctx: StepContext) -> StepResult:
    """Complete checkpoints of finished runs beyond each run's retention, oldest first."""
    result = StepResult("finished_runs")
    finished = [run for run in ctx.config.all_runs() if run.state == "finished"]
    if not finished:
        result.skipped = "no finished runs configured"
        return result
    candidates: list[tuple[int, Path]] = []
    for run in finished:
        output = Path(run.output_dir)
        complete = complete_for_any(output)
        # Never the newest resumable or servable one, whatever the retention says.
        keep = {*complete[-run.retention :], *newest_complete(output)}
        candidates.extend((int(p.name.split("-")[1]), p) for p in complete if p not in keep)
    for _, path in sorted(candidates):
        if ctx.satisfied():
            break
        _delete(ctx, result, str(path), [path])
    return result


def step_tmp(ctx: StepContext) -> StepResult:
    """Entries of ``tmp_dir`` unchanged for ``tmp_max_age_days``; mount points are left alone."""
    from groot_ops.disk.usage import newest_mtime

    result = StepResult("tmp")
    tmp = Path(ctx.config.tmp_dir) if ctx.config.tmp_dir else None
    if tmp is None or not tmp.is_dir():
        result.skipped = "no tmp dir"
        return result
    cutoff = ctx.now - ctx.config.tmp_max_age_days * DAY
    aged = []
    for entry in tmp.iterdir():
        try:
            if os.path.ismount(entry) or entry.is_socket():
                continue
            mtime = newest_mtime(entry)
        except OSError:
            continue
        if mtime <= cutoff:
            aged.append((mtime, entry))
    for _, path in sorted(aged):
        if ctx.satisfied():
            break
        _delete(ctx, result, str(path), [path])
    return result


def step_docker(ctx: StepContext) -> StepResult:
    """This project's stopped containers, dangling images and unused networks (never a protected role).

    Where groot_ops runs next to a docker CLI (``groot-ops disk clean`` on an engine host). The cleanup
    playbook's engine play uses module ``groot_docker_prune`` instead, which needs no groot_ops.
    """
    import shutil

    from groot_ops.disk import docker_prune as dp

    result = StepResult("docker")
    config = ctx.config
    if not config.docker_prune:
        result.skipped = "docker_prune is off"
        return result
    if shutil.which("docker") is None:
        result.skipped = "no docker CLI on this host"
        return result
    cli = dp.DockerCli(config.docker_host)
    extra = (config.docker_prune_filter,) if config.docker_prune_filter else ()
    try:
        found = dp.find_candidates(cli, extra_filters=extra)
    except dp.DockerPruneError as exc:
        # One engine problem must not cost the other steps (or the watchdog) their verdict.
        result.errors.append(str(exc))
        return result
    ordered = sorted(found.candidates, key=lambda c: (-c.bytes, c.kind, c.name))
    done = dp.remove_objects(cli, ordered, check=ctx.check, enough=lambda _so_far: ctx.satisfied())
    result.items = [c.line() for c in done.removed]
    result.freed_bytes = done.freed_bytes
    result.protected = found.kept + done.kept
    result.errors = done.errors
    if ctx.check:
        # Docker's data root is rarely the watched filesystem; counted as the engine reports it.
        ctx.simulated_freed += done.freed_bytes
    return result


STEPS: dict[str, Callable[[StepContext], StepResult]] = {
    "hf_incomplete": step_hf_incomplete,
    "hf_detached_revisions": step_hf_detached_revisions,
    "hf_unused_repos": step_hf_unused_repos,
    "package_caches": step_package_caches,
    "quarantine": step_quarantine,
    "finished_runs": step_finished_runs,
    "docker": step_docker,
    "tmp": step_tmp,
}
STEP_NAMES: tuple[str, ...] = tuple(STEPS)
