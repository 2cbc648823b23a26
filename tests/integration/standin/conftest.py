"""Fixtures of the stand-in tests: a tiny GR00T dataset and a runner for launch_finetune.py."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from tests.integration.standin.groot_dataset import write_groot_dataset
from tests.standins.model_fixture import STANDIN_ROOT

LAUNCH = STANDIN_ROOT / "gr00t" / "experiment" / "launch_finetune.py"
TORCHRUN = Path(sys.executable).with_name("torchrun")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def pristine_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_groot_dataset(tmp_path_factory.mktemp("groot") / "dataset")


@pytest.fixture
def dataset(pristine_dataset: Path, tmp_path: Path) -> Path:
    """A private copy: the trainer writes meta/stats.json into the dataset like upstream."""
    return Path(shutil.copytree(pristine_dataset, tmp_path / "dataset"))


def base_flags(dataset: Path, output: Path, **overrides: object) -> list[str]:
    flags = {
        "base_model_path": "nvidia/GR00T-N1.6-3B",
        "dataset_path": dataset,
        "embodiment_tag": "UNITREE_G1",
        "output_dir": output,
        "global_batch_size": 8,
        "max_steps": 6,
        "save_steps": 2,
        "save_total_limit": 2,
        "num_gpus": 1,
        "dataloader_num_workers": 0,
    }
    flags.update(overrides)
    argv: list[str] = []
    for key, value in flags.items():
        argv += [f"--{key}", str(value)]
    return argv


Runner = Callable[..., subprocess.CompletedProcess]


@pytest.fixture
def launch() -> Runner:
    """Run launch_finetune.py under torchrun (nproc processes) or plain python (nproc=0)."""

    def run(
        argv: Sequence[str], *, nproc: int = 1, env: dict[str, str] | None = None, merged: bool = False
    ) -> subprocess.CompletedProcess:
        if nproc:
            cmd = [str(TORCHRUN), "--nproc_per_node", str(nproc), "--master_addr", "127.0.0.1",
                   "--master_port", str(free_port()), str(LAUNCH), *argv]  # fmt: skip
        else:
            cmd = [sys.executable, str(LAUNCH), *argv]
        full_env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
        if merged:
            # One stream, as the supervisor reads it (stdout and stderr in the order they were written).
            return subprocess.run(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=full_env, timeout=300
            )
        return subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=300)

    return run
