from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from groot_ops.disk.budget import recipe_budget
from groot_ops.disk.policy import reclaimable_bytes, run_policy
from groot_ops.disk.watchdog import ensure_fits
from groot_ops.errors import ConfigError
from tests.unit.disk.builders import age, checkpoint, commit, hf_repo, write_file

BASE = "nvidia/GR00T-N1.6-3B"


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture
def full_workspace(workspace: Path, base_config: dict[str, Any]) -> dict[str, Any]:
    """Reclaimables of every kind next to everything the protected set covers."""
    cache = workspace / "hf-cache/hub"
    hf_repo(cache, BASE, {commit(1): {"model.safetensors": 200_000}}, {"main": commit(1)})
    hf_repo(cache, "u/unused", {commit(2): {"a": 50_000}}, {"main": commit(2)})
    write_file(workspace / "pip" / "wheel", 50_000)
    run = workspace / "checkpoints" / "towel"
    checkpoint(run, 10, size=50_000)
    checkpoint(run, 20, size=200_000)
    write_file(workspace / "exports" / "towel" / "step-20" / "model.safetensors", 10_000)
    write_file(workspace / "datasets" / "groot" / "towel" / "data.parquet", 10_000)
    age(workspace / "hf-cache", 30)
    return {
        **base_config,
        "pip_cache_dirs": [str(workspace / "pip")],
        "runs": [{"output_dir": str(run), "state": "finished", "retention": 1}],
        "datasets_in_use": [str(workspace / "datasets" / "groot" / "towel")],
    }


def test_nothing_to_do_above_the_watermark(workspace: Path, full_workspace: dict[str, Any]) -> None:
    before = _tree(workspace)
    result = run_policy({**full_workspace, "act_below_percent": 0, "stop_at_percent": 0})
    assert result["acted"] is False
    assert result["changed"] is False
    assert result["steps"] == []
    assert result["ok"] is True
    assert _tree(workspace) == before


def test_check_then_clean_then_idempotent(workspace: Path, full_workspace: dict[str, Any]) -> None:
    before = _tree(workspace)
    check = run_policy(full_workspace, check=True)
    assert check["changed"] is True
    assert _tree(workspace) == before, "check mode deleted something"
    assert "u/unused" in check["diff"]["before"]
    assert check["free_after"] == check["free_before"] + check["freed_bytes"]

    done = run_policy(full_workspace)
    assert done["changed"] is True
    by_step = {s["name"]: s["freed_bytes"] for s in done["steps"]}
    assert by_step == {s["name"]: s["freed_bytes"] for s in check["steps"]}
    assert by_step["hf_unused_repos"] >= 50_000
    assert by_step["package_caches"] >= 50_000
    assert by_step["finished_runs"] >= 50_000

    again = run_policy(full_workspace)
    assert again["changed"] is False
    assert again["freed_bytes"] == 0


def test_protected_set_survives_when_it_is_the_only_way(
    workspace: Path, full_workspace: dict[str, Any]
) -> None:
    run_policy(full_workspace)
    # Only protected data is left, and the policy (asked for 100% free) still cannot reach its goal.
    result = run_policy(full_workspace, need_bytes=10**18)
    assert result["ok"] is False
    assert result["changed"] is False
    assert (workspace / "checkpoints/towel/checkpoint-20/model.safetensors").stat().st_size == 200_000
    snapshot = workspace / "hf-cache/hub/models--nvidia--GR00T-N1.6-3B/snapshots" / commit(1)
    assert (snapshot / "model.safetensors").stat().st_size == 200_000
    assert (workspace / "exports/towel/step-20/model.safetensors").exists()
    assert (workspace / "datasets/groot/towel/data.parquet").exists()


def test_reclaimable_bytes_ignores_watermarks(full_workspace: dict[str, Any]) -> None:
    cfg = {**full_workspace, "act_below_percent": 0, "stop_at_percent": 0}
    assert reclaimable_bytes(cfg) >= 150_000
    assert run_policy(cfg, check=True)["freed_bytes"] == 0


def test_missing_watch_path(workspace: Path) -> None:
    with pytest.raises(ConfigError, match="no-such"):
        run_policy({"watch_path": str(workspace / "no-such")})


def test_watchdog_ok_cleaned_insufficient(workspace: Path, full_workspace: dict[str, Any]) -> None:
    relaxed = {**full_workspace, "act_below_percent": 0, "stop_at_percent": 0}
    ok = ensure_fits(relaxed, next_checkpoint_bytes=1000)
    assert ok["status"] == "ok"
    assert ok["changed"] is False
    assert ok["need_bytes"] == 1500

    cleaned = ensure_fits(full_workspace, next_checkpoint_bytes=1000)
    assert cleaned["status"] == "cleaned"
    assert cleaned["freed_bytes"] >= 150_000

    short = ensure_fits(full_workspace, next_checkpoint_bytes=10**18)
    assert short["status"] == "insufficient"
    assert str(workspace) in short["message"]
    assert short["free_bytes"] < short["need_bytes"]


def test_watchdog_learns_the_checkpoint_size(workspace: Path, base_config: dict[str, Any]) -> None:
    run = workspace / "checkpoints" / "towel"
    config = {**base_config, "runs": [{"output_dir": str(run), "state": "running"}], "act_below_percent": 0,
              "stop_at_percent": 0, "save_settle_seconds": 0}  # fmt: skip
    unknown = ensure_fits(config, next_checkpoint_bytes=None)
    assert unknown["checkpoint_bytes"] == 0
    assert unknown["status"] == "ok"
    checkpoint(run, 10, size=300_000)
    checkpoint(run, 20, size=100_000, complete=False)
    result = ensure_fits(config, next_checkpoint_bytes=None)
    assert 300_000 <= result["checkpoint_bytes"] < 400_000
    assert result["status"] == "ok"


def test_recipe_budget() -> None:
    recipe = {"name": "towel", "training": {"save_total_limit": 2}}
    gb = 10**9
    verdict = recipe_budget(recipe, checkpoint_bytes=22 * gb, dataset_bytes=30 * gb, cache_bytes=8 * gb,
                            free_bytes=100 * gb, reclaimable_bytes=50 * gb)  # fmt: skip
    assert verdict["parts"]["checkpoints"] == 3 * 22 * gb  # limit + the one written before rotation
    assert verdict["parts"]["export"] == 9_200_000_000
    assert verdict["need_bytes"] == 30 * gb + 8 * gb + 66 * gb + verdict["parts"]["export"]
    assert verdict["fits"] is False
    assert verdict["fits_after_cleanup"] is True
    assert verdict["shortfall_bytes"] == 0
    assert recipe_budget({}, checkpoint_bytes=1, free_bytes=0)["save_total_limit"] == 5


def test_recipe_budget_measures_with_disk_config(workspace: Path, full_workspace: dict[str, Any]) -> None:
    verdict = recipe_budget({"save_total_limit": 1}, checkpoint_bytes=1000, export_bytes=0,
                            disk_config=full_workspace)  # fmt: skip
    assert verdict["free_bytes"] > 0
    assert verdict["reclaimable_bytes"] >= 150_000
    assert verdict["fits"] is True


@pytest.mark.parametrize(
    ("recipe", "kwargs", "words"),
    [
        ({"name": "towel", "save_total_limit": 0}, {"checkpoint_bytes": 1, "free_bytes": 1}, "recipe towel"),
        ({}, {"checkpoint_bytes": -1, "free_bytes": 1}, "checkpoint_bytes"),
        ({}, {"checkpoint_bytes": 1}, "free_bytes"),
    ],
)
def test_recipe_budget_bad_input(recipe: dict, kwargs: dict, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        recipe_budget(recipe, **kwargs)
    assert words in str(err.value)


def test_dry_run_counts_each_file_once(workspace: Path, base_config: dict[str, Any]) -> None:
    # The detached revision is named by two steps (detached, then its whole unused repo).
    cache = workspace / "hf-cache/hub"
    hf_repo(cache, "u/moved", {commit(1): {"w": 80_000}, commit(2): {"w": 80_001}}, {"main": commit(2)})
    age(cache, 30)
    would = run_policy(base_config, check=True)
    steps = {s["name"]: s for s in would["steps"]}
    assert steps["hf_detached_revisions"]["items"] and steps["hf_unused_repos"]["items"]
    assert run_policy(base_config)["freed_bytes"] == would["freed_bytes"]


def test_watchdog_waits_for_a_save_in_flight(workspace: Path, base_config: dict[str, Any]) -> None:
    run = workspace / "checkpoints" / "towel"
    checkpoint(run, 10, size=1000)
    config = {**base_config, "runs": [{"output_dir": str(run), "state": "running"}], "act_below_percent": 0,
              "stop_at_percent": 0, "save_settle_seconds": 0.6}  # fmt: skip
    assert ensure_fits(config, next_checkpoint_bytes=1)["waited_s"] >= 0.3
    age(run, 1)
    assert ensure_fits(config, next_checkpoint_bytes=1)["waited_s"] < 0.3
    # A writer that never stops only delays the verdict up to the timeout.
    busy = {**config, "save_settle_seconds": 5, "save_settle_timeout_seconds": 0.3}
    (run / "checkpoint-10" / "touch").write_text("x")
    assert 0.3 <= ensure_fits(busy, next_checkpoint_bytes=1)["waited_s"] < 2


def test_watchdog_ignores_logs_written_beside_checkpoints(
    workspace: Path, base_config: dict[str, Any]
) -> None:
    run = workspace / "checkpoints" / "towel"
    checkpoint(run, 10, size=1000)
    write_file(run / "runs" / "events.out.tfevents", 100)  # a trainer log that keeps growing
    age(run, 1)
    (run / "runs" / "events.out.tfevents").write_text("more")
    config = {**base_config, "runs": [{"output_dir": str(run), "state": "running"}], "act_below_percent": 0,
              "stop_at_percent": 0, "save_settle_seconds": 5}  # fmt: skip
    assert ensure_fits(config, next_checkpoint_bytes=1)["waited_s"] < 1
