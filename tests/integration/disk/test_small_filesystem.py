"""The whole disk story on a real small filesystem: a 44 MiB tmpfs holding checkpoints, caches and data.

The Isaac-GR00T stand-in, launched by the real supervisor under real torchrun, writes checkpoints padded to
~9 MB (``GROOT_STANDIN_PAD_CHECKPOINT_MB``) with ``save_total_limit`` 2, so three of them (the trainer saves
before it rotates) do not fit next to the caches. The supervisor asks the disk watchdog before each save.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from groot_ops.train import checkpoints
from groot_ops.train import control as supervisor
from tests.integration.train.conftest import build_groot_dataset
from tests.unit.disk.builders import age, commit, hf_repo, write_file

pytestmark = pytest.mark.timeout(240)

REPO_ROOT = Path(__file__).resolve().parents[3]
STANDIN = REPO_ROOT / "tests" / "standins" / "isaac_groot"
MIB = 2**20
PAD_MB = 8  # checkpoint ≈ 9.1 MB on disk with the stand-in's weights and copies
FS_MIB = 44
BASE = "nvidia/GR00T-N1.6-3B"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_groot_dataset(tmp_path_factory.mktemp("disk-data"), seed=7)


class CannotMount(RuntimeError):
    """This machine does not let us mount a tmpfs (not root, or no CAP_SYS_ADMIN)."""


class SmallDisk:
    """A tmpfs of ``FS_MIB`` mounted for one test; every process started on it is killed before unmounting."""

    def __init__(self, tmp_path: Path) -> None:
        self.fs = tmp_path / "fs"
        self.fs.mkdir()
        proc = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={FS_MIB}m,mode=0755", "tmpfs", str(self.fs)],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise CannotMount(f"cannot mount a small tmpfs here ({proc.stderr.strip() or proc.returncode})")
        self.runs_root = tmp_path / "runs"

    def grow(self, mib: int) -> None:
        subprocess.run(["mount", "-o", f"remount,size={mib}m", str(self.fs)], check=True, capture_output=True)

    def close(self) -> None:
        for pid_file in [*self.runs_root.glob("*/pid"), *self.runs_root.glob("*/torchrun.pid")]:
            with contextlib.suppress(ValueError, OSError):
                pid = int(pid_file.read_text())
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                if b"groot_ops.train.run_loop" in cmdline or b"torch.distributed.run" in cmdline:
                    os.killpg(pid, signal.SIGKILL)
        for _ in range(50):
            if subprocess.run(["umount", str(self.fs)], capture_output=True).returncode == 0:
                return
            time.sleep(0.2)
        subprocess.run(["umount", "-l", str(self.fs)], capture_output=True)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[SmallDisk]:
    try:
        small = SmallDisk(tmp_path)
    except CannotMount as exc:
        print(exc)
        pytest.skip(str(exc))
    yield small
    small.close()


def disk_spec(disk: SmallDisk, dataset: Path) -> dict[str, Any]:
    fs = disk.fs
    shutil.copytree(dataset, fs / "datasets" / "groot" / "towel")
    output_dir = fs / "checkpoints" / "towel"
    guard = {
        "watch_path": str(fs / "checkpoints"),
        "act_below_percent": 15,
        "stop_at_percent": 25,
        "checkpoint_margin": 1.5,
        "hf_cache": str(fs / "hf-cache" / "hub"),
        "pip_cache_dirs": [str(fs / "pip")],
        "quarantine_dir": str(fs / "checkpoints" / ".quarantine"),
        "runs": [{"output_dir": str(output_dir), "state": "running"}],
        "datasets_in_use": [str(fs / "datasets")],
        "exports_dir": str(fs / "exports"),
        "save_settle_seconds": 0.5,
    }
    return {
        "recipe": "towel",
        "runs_root": str(disk.runs_root),
        "isaac_groot_dir": str(STANDIN),
        "python": sys.executable,
        "dataset_path": str(fs / "datasets" / "groot" / "towel"),
        "output_dir": str(output_dir),
        "base_model_path": BASE,
        "flags": {
            "max_steps": 40,
            "save_steps": 10,
            "save_total_limit": 2,
            "global_batch_size": 4,
            "dataloader_num_workers": 0,
            "learning_rate": 1e-3,
        },
        "env": {"GROOT_STANDIN_STEP_SLEEP_S": "0.2", "GROOT_STANDIN_PAD_CHECKPOINT_MB": str(PAD_MB)},
        "disk_guard": guard,
        "checkpoint_bytes": 9_500_000,
        "max_retries": 0,
    }


def fill_reclaimable_caches(fs: Path) -> Path:
    """The base model (in use, protected), an unused model, an interrupted download and a pip cache, aged
    30 days; returns the base model's cache repo. Together they leave no room for three checkpoints."""
    cache = fs / "hf-cache" / "hub"
    base = hf_repo(cache, BASE, {commit(1): {"model.safetensors": 3 * MIB}}, {"main": commit(1)})
    hf_repo(cache, "someone/old-model", {commit(2): {"model.safetensors": 8 * MIB}}, {"main": commit(2)})
    write_file(cache / "models--someone--old-model" / "blobs" / "f00d.incomplete", 2 * MIB)
    age(fs / "hf-cache", 30)
    write_file(fs / "pip" / "http-v2" / "wheel", 6 * MIB)
    return base


def fill_protected_base_model(fs: Path) -> Path:
    """Only the base model's 20 MiB (protected: the run uses it): nothing the watchdog may reclaim."""
    base = hf_repo(
        fs / "hf-cache" / "hub", BASE, {commit(1): {"model.safetensors": 20 * MIB}}, {"main": commit(1)}
    )
    age(fs / "hf-cache", 30)
    return base


def _wait_done(spec: dict[str, Any], timeout: float = 150) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = supervisor.status(spec["runs_root"], spec["recipe"])
        if status["state"] in ("finished", "stopped") or status["state"].startswith("failed:"):
            return status
        time.sleep(0.3)
    raise AssertionError(f"training did not end: {json.dumps(status)}\n{_log(spec)[-3000:]}")


def _log(spec: dict[str, Any]) -> str:
    path = Path(spec["runs_root"], spec["recipe"], "train.log")
    return path.read_text(errors="replace") if path.exists() else ""


def _assert_checkpoints_sound(output_dir: str, steps: list[int]) -> None:
    found = checkpoints.list_checkpoints(output_dir)
    assert [checkpoints.checkpoint_step(c) for c in found] == steps
    for ckpt in found:
        assert checkpoints.is_complete(ckpt), f"{ckpt} is incomplete: {checkpoints.missing_files(ckpt)}"
        state = json.loads((ckpt / "trainer_state.json").read_text())
        assert state["global_step"] == checkpoints.checkpoint_step(ckpt)


def _free_mib(path: Path) -> float:
    return shutil.disk_usage(path).free / MIB


def test_caches_are_reclaimed_and_training_reaches_max_steps(disk: SmallDisk, dataset: Path) -> None:
    spec = disk_spec(disk, dataset)
    fs = disk.fs
    cache = fs / "hf-cache" / "hub"
    base = fill_reclaimable_caches(fs)
    # Without cleanup this overflows: the trainer holds three checkpoints while it rotates.
    assert _free_mib(fs) * MIB < 3 * 9_100_000

    assert supervisor.start(spec)["action"] == "launched"
    done = _wait_done(spec)
    log = _log(spec)
    assert done["state"] == "finished", f"{done}\n{log[-3000:]}"
    assert done["step"] == 40
    assert "disk watchdog before checkpoint-30" in log
    assert ": cleaned" in log, log[-3000:]
    _assert_checkpoints_sound(spec["output_dir"], [30, 40])
    assert not (fs / "checkpoints" / ".quarantine").exists()
    # Reclaimed in policy order until the stop watermark: the interrupted download and the unused repo...
    assert not (cache / "models--someone--old-model").exists()
    # ...and no more than needed: the pip cache was not reached.
    assert (fs / "pip" / "http-v2" / "wheel").stat().st_size == 6 * MIB
    # The protected set is intact.
    assert (base / "snapshots" / commit(1) / "model.safetensors").stat().st_size == 3 * MIB
    assert (fs / "datasets" / "groot" / "towel" / "meta" / "info.json").is_file()


def test_nothing_reclaimable_stops_cleanly_then_resumes_after_space_is_added(
    disk: SmallDisk, dataset: Path
) -> None:
    spec = disk_spec(disk, dataset)
    fs = disk.fs
    base = fill_protected_base_model(fs)

    supervisor.start(spec)
    stopped = _wait_done(spec)
    log = _log(spec)
    assert stopped["state"] == "failed:disk", f"{stopped}\n{log[-3000:]}"
    assert stopped["failure"]["class"] == "disk"
    assert "checkpoint-30" in stopped["failure"]["message"]
    assert "No space left" not in log, "the trainer hit ENOSPC instead of being stopped before the save"
    _assert_checkpoints_sound(spec["output_dir"], [10, 20])
    assert (base / "snapshots" / commit(1) / "model.safetensors").stat().st_size == 20 * MIB

    disk.grow(96)
    assert supervisor.start(spec)["action"] == "resumed"
    done = _wait_done(spec)
    log = _log(spec)
    assert done["state"] == "finished", f"{done}\n{log[-3000:]}"
    assert done["step"] == 40
    assert "checkpoint-20" in log.split("attempt 0")[-1]  # the second launch resumed from checkpoint-20
    _assert_checkpoints_sound(spec["output_dir"], [30, 40])
    assert (base / "snapshots" / commit(1) / "model.safetensors").stat().st_size == 20 * MIB


def test_undeletable_candidates_are_reported_and_the_policy_goes_on(disk: SmallDisk) -> None:
    from groot_ops.disk.policy import run_policy

    fs = disk.fs
    write_file(fs / "ro" / "pip" / "wheel", MIB)
    write_file(fs / "pip" / "wheel", MIB)
    (fs / "checkpoints").mkdir()
    ro = fs / "ro"
    subprocess.run(["mount", "--bind", str(ro), str(ro)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(ro)], check=True)
        config = {"watch_path": str(fs / "checkpoints"), "target": "all",
                  "pip_cache_dirs": [str(ro / "pip"), str(fs / "pip")]}  # fmt: skip
        result = run_policy(config)
    finally:
        subprocess.run(["umount", str(ro)], check=True)
    step = {s["name"]: s for s in result["steps"]}["package_caches"]
    assert step["items"] == [str(fs / "pip" / "wheel")]
    assert "Read-only file system" in step["errors"][0]
    assert (ro / "pip" / "wheel").exists()
    assert not (fs / "pip" / "wheel").exists()
