"""Fixtures for supervisor tests: a small GR00T dataset (built once), specs, waiting, cleanup."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from groot_ops.train import control as supervisor

REPO_ROOT = Path(__file__).resolve().parents[3]
STANDIN = REPO_ROOT / "tests" / "standins" / "isaac_groot"
LAUNCH = STANDIN / "gr00t" / "experiment" / "launch_finetune.py"


def build_groot_dataset(root: Path, *, seed: int = 3) -> Path:
    """A small converted GR00T dataset with stats under ``root`` (3 episodes of 40-50 frames)."""
    if not LAUNCH.is_file():
        raise FileNotFoundError(f"the Isaac-GR00T stand-in is missing: {LAUNCH}")
    from groot_ops.data.convert import convert_dataset
    from groot_ops.data.stats import compute_stats
    from groot_ops.data.synth import synth_raw_dataset

    synth_raw_dataset(root / "raw", episodes=3, min_len=40, max_len=50, seed=seed)
    convert_dataset(root / "raw", root / "groot")
    compute_stats(root / "groot")
    return root / "groot"


@pytest.fixture(scope="session")
def groot_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not LAUNCH.is_file():
        pytest.fail(f"the Isaac-GR00T stand-in is missing: {LAUNCH}")
    return build_groot_dataset(tmp_path_factory.mktemp("train-data"))


class Runs:
    """Builds specs under one tmp workspace and stops every supervisor it started at teardown."""

    def __init__(self, workspace: Path, dataset: Path) -> None:
        self.workspace = workspace
        self.dataset = dataset
        self.runs_roots: set[Path] = set()

    def spec(self, recipe: str, *, runs_root: str = "runs", **over: Any) -> dict[str, Any]:
        flags = {
            "max_steps": 40,
            "save_steps": 10,
            "save_total_limit": 2,
            "global_batch_size": 4,
            "dataloader_num_workers": 0,
            "learning_rate": 1e-3,
        }
        flags.update(over.pop("flags", {}))
        env = {"GROOT_STANDIN_STEP_SLEEP_S": "0.05"}
        env.update(over.pop("env", {}))
        spec = {
            "recipe": recipe,
            "runs_root": str(self.workspace / runs_root),
            "isaac_groot_dir": str(STANDIN),
            "python": sys.executable,
            "dataset_path": str(self.dataset),
            "output_dir": str(self.workspace / "checkpoints" / recipe),
            "base_model_path": "nvidia/GR00T-N1.6-3B",
            "flags": flags,
            "env": env,
            "retry_backoff_s": 0.2,
        }
        spec.update(over)
        self.runs_roots.add(Path(spec["runs_root"]))
        return spec

    def start(self, spec: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return supervisor.start(spec, **kwargs)

    def status(self, spec: dict[str, Any]) -> dict[str, Any]:
        return supervisor.status(spec["runs_root"], spec["recipe"])

    def wait(
        self, spec: dict[str, Any], until: Callable[[dict[str, Any]], bool], timeout: float = 150.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        seen = None
        while time.monotonic() < deadline:
            seen = self.status(spec)
            if until(seen):
                return seen
            time.sleep(0.2)
        log = Path(spec["runs_root"], spec["recipe"], "train.log")
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
        raise AssertionError(f"timed out waiting; last status {json.dumps(seen)}\n--- train.log ---\n{tail}")

    def wait_done(self, spec: dict[str, Any], timeout: float = 150.0) -> dict[str, Any]:
        return self.wait(
            spec,
            lambda s: s["state"] in ("finished", "stopped") or s["state"].startswith("failed:"),
            timeout,
        )

    def cleanup(self) -> None:
        for root in self.runs_roots:
            for pid_file in [*root.glob("*/pid"), *root.glob("*/torchrun.pid")]:
                with contextlib.suppress(ValueError, OSError):
                    pid = int(pid_file.read_text())
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                    if b"groot_ops.train.run_loop" in cmdline or b"torch.distributed.run" in cmdline:
                        # Each leads its own session (start_new_session): kill that group only.
                        os.killpg(pid, signal.SIGKILL)


@pytest.fixture
def runs(tmp_path: Path, groot_dataset: Path) -> Iterator[Runs]:
    helper = Runs(tmp_path, groot_dataset)
    yield helper
    helper.cleanup()


def trainer_children(torchrun_pid: int) -> list[int]:
    """Worker processes started by torchrun (the trainers themselves)."""
    path = Path(f"/proc/{torchrun_pid}/task/{torchrun_pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []
