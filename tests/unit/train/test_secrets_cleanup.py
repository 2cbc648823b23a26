"""The secrets file is removed on every path: read by the run loop, or its start failed, or it died."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from groot_ops.atomic import write_json
from groot_ops.errors import GrootOpsError
from groot_ops.train import control, run_loop
from groot_ops.train.runfiles import RunFiles


def spec(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "isaac" / "gr00t" / "experiment").mkdir(parents=True)
    (tmp_path / "isaac" / "gr00t" / "experiment" / "launch_finetune.py").write_text("")
    (tmp_path / "data" / "meta").mkdir(parents=True)
    (tmp_path / "data" / "meta" / "info.json").write_text("{}")
    return {
        "recipe": "r1",
        "runs_root": str(tmp_path / "runs"),
        "isaac_groot_dir": str(tmp_path / "isaac"),
        "dataset_path": str(tmp_path / "data"),
        "output_dir": str(tmp_path / "ckpt"),
        "base_model_path": "nvidia/GR00T-N1.6-3B",
    }


def test_run_loop_that_cannot_start_still_removes_the_secrets(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "r1"
    run_dir.mkdir(parents=True)
    write_json(run_dir / "secrets.json", {"WANDB_API_KEY": "s3cret"})
    (run_dir / "spec.json").write_text("{ not json")
    with pytest.raises(ValueError):
        run_loop.main([str(run_dir)])
    assert not (run_dir / "secrets.json").exists()


def test_run_loop_reads_them_once_then_they_are_gone(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    write_json(path, {"WANDB_API_KEY": "s3cret"})
    assert run_loop.take_secrets(path) == {"WANDB_API_KEY": "s3cret"}
    assert not path.exists()


def test_a_failed_spawn_removes_the_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_popen(*args: Any, **kwargs: Any) -> None:
        raise OSError("exec format error")

    monkeypatch.setattr(subprocess, "Popen", broken_popen)
    with pytest.raises(OSError):
        control.start(spec(tmp_path), secrets={"WANDB_API_KEY": "s3cret"})
    files = RunFiles(tmp_path / "runs", "r1")
    assert files.dir.is_dir() and not files.secrets.exists()
    assert not (tmp_path / "runs" / "active.json").exists()


def test_a_supervisor_exiting_at_once_leaves_no_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = subprocess.Popen

    def exits_at_once(argv: list[str], **kwargs: Any) -> subprocess.Popen:
        return real(["python3", "-c", "import sys; sys.exit(3)"], **kwargs)

    monkeypatch.setattr(subprocess, "Popen", exits_at_once)
    with pytest.raises(GrootOpsError, match="exited at once"):
        control.start(spec(tmp_path), secrets={"WANDB_API_KEY": "s3cret"})
    assert not RunFiles(tmp_path / "runs", "r1").secrets.exists()


def test_status_of_a_dead_supervisor_removes_a_left_over_secrets_file(tmp_path: Path) -> None:
    files = RunFiles(tmp_path / "runs", "r1")
    files.dir.mkdir(parents=True)
    write_json(files.secrets, {"WANDB_API_KEY": "s3cret"})
    files.status.write_text(json.dumps({"recipe": "r1", "state": "running", "supervisor_pid": 999999999}))
    assert control.status(tmp_path / "runs", "r1")["state"] == "failed:interrupted"
    assert not files.secrets.exists()
