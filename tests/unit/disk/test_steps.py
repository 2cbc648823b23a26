from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from groot_ops.disk.config import DiskGuardConfig
from groot_ops.disk.docker_prune import parse_size
from groot_ops.disk.protected import build_protected_set
from groot_ops.disk.steps import STEPS, StepContext
from groot_ops.disk.usage import disk_usage
from tests.unit.disk.builders import age, checkpoint, commit, hf_repo, write_file

BASE = "nvidia/GR00T-N1.6-3B"


def _run(name: str, raw: dict[str, Any], *, check: bool = False, goal: int | None = None, free: int = 0):
    cfg = DiskGuardConfig.from_dict(raw)
    ctx = StepContext(
        config=cfg,
        protected=build_protected_set(cfg),
        check=check,
        goal_free=goal,
        free_before=free or disk_usage(cfg.watch_path)[1],
    )
    return STEPS[name](ctx), ctx


def _scan(cache: Path) -> dict[str, Any]:
    from huggingface_hub import scan_cache_dir

    return {r.repo_id: r for r in scan_cache_dir(cache).repos}


def test_hf_incomplete_downloads(workspace: Path, base_config: dict[str, Any]) -> None:
    cache = workspace / "hf-cache/hub"
    hf_repo(cache, "u/model", {commit(1): {"a": 100}}, {"main": commit(1)})
    old = write_file(cache / "models--u--model" / "blobs" / "aaa.incomplete", 50_000)
    young = write_file(cache / "models--u--model" / "blobs" / "bbb.incomplete", 50_000)
    age(old, 1)
    config = {**base_config, "hf_incomplete_min_age_minutes": 60}

    report, _ = _run("hf_incomplete", config, check=True)
    assert report.items == [str(old)]
    assert report.freed_bytes >= 50_000
    assert old.exists()

    done, _ = _run("hf_incomplete", config)
    assert done.freed_bytes == report.freed_bytes
    assert not old.exists()
    assert young.exists()
    assert _scan(cache)["u/model"].size_on_disk == 100


def test_hf_detached_revisions_keep_the_referenced_one(workspace: Path, base_config: dict[str, Any]) -> None:
    cache = workspace / "hf-cache/hub"
    hf_repo(
        cache, "u/data", {commit(1): {"a": 40_000, "b": 8000}, commit(2): {"a": 40_001}}, {"main": commit(2)}
    )
    hf_repo(cache, BASE, {commit(3): {"w": 9000}, commit(4): {"w": 9001}}, {"main": commit(4)})

    report, _ = _run("hf_detached_revisions", base_config, check=True)
    assert report.items == [f"model/u/data@{commit(1)[:12]}"]
    assert any("base model" in line for line in report.protected)
    assert len(_scan(cache)["u/data"].revisions) == 2

    done, _ = _run("hf_detached_revisions", base_config)
    assert done.freed_bytes == report.freed_bytes >= 48_000
    repos = _scan(cache)
    assert {r.commit_hash for r in repos["u/data"].revisions} == {commit(2)}
    assert (cache / "models--u--data" / "snapshots" / commit(2) / "a").read_bytes()
    assert len(repos[BASE].revisions) == 2, "the base model cache is protected, detached revision included"


def test_hf_unused_repos_least_recently_used_first(workspace: Path, base_config: dict[str, Any]) -> None:
    cache = workspace / "hf-cache/hub"
    oldest = hf_repo(cache, "u/old", {commit(1): {"a": 64_000}}, {"main": commit(1)})
    newer = hf_repo(cache, "u/newer", {commit(2): {"a": 64_000}}, {"main": commit(2)})
    base = hf_repo(cache, BASE, {commit(3): {"w": 64_000}}, {"main": commit(3)})
    used = hf_repo(cache, "u/used", {commit(4): {"a": 64_000}}, {"main": commit(4)}, repo_type="dataset")
    for repo, days in ((oldest, 30), (newer, 10), (base, 90), (used, 60)):
        age(repo, days)
    config = {**base_config, "dataset_repo_ids": ["u/used"], "hf_repo_min_idle_days": 7}

    # A goal 1 byte above free is reached by deleting the least recently accessed unprotected repo.
    report, _ = _run("hf_unused_repos", config, check=True, goal=10**9 + 1, free=10**9)
    assert report.items == ["model/u/old"]

    done, _ = _run("hf_unused_repos", config)
    assert done.items == ["model/u/old", "model/u/newer"]
    assert set(_scan(cache)) == {BASE, "u/used"}
    assert len(done.protected) == 2


def test_hf_unused_repos_respects_idle_days(workspace: Path, base_config: dict[str, Any]) -> None:
    hf_repo(workspace / "hf-cache/hub", "u/fresh", {commit(1): {"a": 100}}, {"main": commit(1)})
    done, _ = _run("hf_unused_repos", {**base_config, "hf_repo_min_idle_days": 7})
    assert done.items == []


def test_hf_steps_skip_without_cache(workspace: Path, base_config: dict[str, Any]) -> None:
    report, _ = _run("hf_incomplete", {**base_config, "hf_cache": str(workspace / "missing")})
    assert report.skipped and "does not exist" in report.skipped


def test_package_caches_empty_contents_keep_dirs(workspace: Path, base_config: dict[str, Any]) -> None:
    write_file(workspace / "pip" / "http-v2" / "a" / "blob", 20_000)
    write_file(workspace / "uv" / "wheels-v5" / "torch.whl", 20_000)
    (workspace / "uv" / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55")
    write_file(workspace / "conda" / "numpy-1.26.tar.bz2", 20_000)
    config = {
        **base_config,
        "pip_cache_dirs": [str(workspace / "pip")],
        "uv_cache_dirs": [str(workspace / "uv")],
        "conda_pkgs_dirs": [str(workspace / "conda"), str(workspace / "no-such-dir")],
    }
    report, _ = _run("package_caches", config, check=True)
    assert len(report.items) == 3
    assert (workspace / "uv" / "wheels-v5").exists()
    done, _ = _run("package_caches", config)
    assert done.freed_bytes == report.freed_bytes >= 60_000
    assert [p.name for p in (workspace / "uv").iterdir()] == ["CACHEDIR.TAG"]
    assert list((workspace / "pip").iterdir()) == []


def test_quarantine_older_than_max_age(workspace: Path, base_config: dict[str, Any]) -> None:
    quarantine = workspace / "checkpoints" / ".quarantine" / "fold"
    old = checkpoint(quarantine, 100, complete=False).rename(quarantine / "checkpoint-100-20260101T000000Z")
    young = checkpoint(quarantine, 200, complete=False).rename(quarantine / "checkpoint-200-20261123T000000Z")
    age(old, 10)
    age(young, 1)
    done, _ = _run("quarantine", {**base_config, "quarantine_max_age_days": 3})
    assert done.items == [str(old)]
    assert not old.exists()
    assert young.exists()


def test_quarantine_age_counts_from_the_quarantine_stamp(
    workspace: Path, base_config: dict[str, Any]
) -> None:
    quarantine = workspace / "checkpoints" / ".quarantine" / "fold"
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    # Written ten days ago (rename keeps that mtime) but quarantined just now: not old yet.
    today = checkpoint(quarantine, 100, complete=False).rename(quarantine / f"checkpoint-100-{stamp}")
    age(today, 10)
    done, _ = _run("quarantine", {**base_config, "quarantine_max_age_days": 3})
    assert done.items == []
    assert today.exists()


def test_finished_runs_beyond_retention(workspace: Path, base_config: dict[str, Any]) -> None:
    finished = workspace / "checkpoints" / "towel"
    running = workspace / "checkpoints" / "hospitality"
    for step in (10, 20, 30):
        checkpoint(finished, step)
        checkpoint(running, step)
    half = checkpoint(finished, 40, complete=False)
    config = {
        **base_config,
        "runs": [
            {"output_dir": str(finished), "state": "finished", "retention": 2},
            {"output_dir": str(running), "state": "running", "retention": 1},
        ],
    }
    done, _ = _run("finished_runs", config)
    assert done.items == [str(finished / "checkpoint-10")]
    assert sorted(p.name for p in finished.iterdir()) == ["checkpoint-20", "checkpoint-30", half.name]
    assert len(list(running.iterdir())) == 3, "a running run's checkpoints are never touched"


def test_finished_run_retention_one_keeps_newest_complete(
    workspace: Path, base_config: dict[str, Any]
) -> None:
    run = workspace / "checkpoints" / "towel"
    for step in (1000, 2000, 10000):
        checkpoint(run, step)
    config = {**base_config, "runs": [{"output_dir": str(run), "state": "finished", "retention": 1}]}
    _run("finished_runs", config)
    assert [p.name for p in run.iterdir()] == ["checkpoint-10000"]


def test_tmp_old_entries_only(workspace: Path, base_config: dict[str, Any]) -> None:
    tmp = workspace / "tmp"
    old = write_file(tmp / "old-build" / "a.o", 10_000)
    age(old.parent, 30)
    busy = write_file(tmp / "busy" / "deep" / "old.txt", 10_000)
    age(busy.parent.parent, 30)
    write_file(tmp / "busy" / "deep" / "fresh.txt", 10)  # one fresh file keeps the whole entry
    done, _ = _run("tmp", {**base_config, "tmp_max_age_days": 7})
    assert done.items == [str(old.parent)]
    assert busy.exists()


def test_docker_step_off_by_default(workspace: Path, base_config: dict[str, Any]) -> None:
    report, _ = _run("docker", base_config)
    assert report.skipped == "docker_prune is off"


def test_goal_stops_a_step_between_candidates(workspace: Path, base_config: dict[str, Any]) -> None:
    for name in ("a", "b", "c"):
        write_file(workspace / "pip" / name, 40_000)
    config = {**base_config, "pip_cache_dirs": [str(workspace / "pip")]}
    report, ctx = _run("package_caches", config, check=True, goal=10**9 + 50_000, free=10**9)
    assert len(report.items) == 2
    assert ctx.simulated_freed == report.freed_bytes


def test_docker_sizes_parse() -> None:
    assert parse_size("0B") == 0
    assert parse_size("12.5kB") == 12_500
    assert parse_size("1.2GB (virtual 3GB)") == 1_200_000_000
    assert parse_size("3MiB") == 3 * 2**20


def test_step_order_is_the_documented_one() -> None:
    assert list(STEPS) == [
        "hf_incomplete",
        "hf_detached_revisions",
        "hf_unused_repos",
        "package_caches",
        "quarantine",
        "finished_runs",
        "docker",
        "tmp",
    ]
    assert dataclasses.is_dataclass(StepContext)


def test_runs_discovered_from_status_files(workspace: Path, base_config: dict[str, Any]) -> None:
    ckpts, runs = workspace / "checkpoints", workspace / "runs"
    for recipe, state in (("done", "finished"), ("busy", "running"), ("crashed", "failed:disk")):
        for step in (10, 20):
            checkpoint(ckpts / recipe, step)
        (runs / recipe).mkdir(parents=True)
        (runs / recipe / "status.json").write_text(f'{{"state": "{state}"}}')
    for step in (10, 20):
        checkpoint(ckpts / "no-status", step)
    config = {**base_config, "checkpoints_root": str(ckpts), "runs_root": str(runs)}
    done, _ = _run("finished_runs", config)
    assert done.items == [str(ckpts / "done" / "checkpoint-10")]
    assert (ckpts / "done" / "checkpoint-20").exists()
    for recipe in ("busy", "crashed", "no-status"):
        assert len(list((ckpts / recipe).iterdir())) == 2


def test_docker_engine_errors_are_reported_not_raised(workspace: Path, base_config: dict[str, Any]) -> None:
    if shutil.which("docker") is None:
        pytest.skip("no docker CLI")
    config = {**base_config, "docker_prune": True, "docker_host": f"unix://{workspace}/no-engine.sock"}
    report, _ = _run("docker", config, check=True)
    assert report.items == []
    assert report.errors and all("no-engine.sock" in e for e in report.errors)


def test_tmp_never_reaches_into_a_running_run(workspace: Path, base_config: dict[str, Any]) -> None:
    # An operator who put the workspace under the tmp dir: old entries holding a running run are refused.
    run = workspace / "tmp" / "ws" / "checkpoints" / "towel"
    checkpoint(run, 10, complete=False)
    age(workspace / "tmp" / "ws", 30)
    config = {**base_config, "runs": [{"output_dir": str(run), "state": "running"}], "tmp_max_age_days": 7}
    done, _ = _run("tmp", config)
    assert done.items == []
    assert done.protected and "running run" in done.protected[0]
    assert (run / "checkpoint-10" / "model.safetensors").exists()
