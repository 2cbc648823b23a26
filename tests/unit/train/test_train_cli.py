"""``groot-ops train`` from a shell: status of nothing, bad specs fail naming the file, check mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groot_ops.cli.main import main


def test_status_of_an_unknown_run_is_absent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "status", "--runs-root", str(tmp_path), "--recipe", "nothing", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "absent"


def test_bad_spec_file_fails_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "spec.yml"
    spec.write_text("recipe: r\nflags: {max_steps: 10}\n")
    assert main(["train", "start", "--spec", str(spec)]) == 1
    err = capsys.readouterr().err
    assert "training spec: 'runs_root' is required" in err
    assert main(["train", "start", "--spec", str(tmp_path / "missing.json")]) == 1
    assert "missing.json" in capsys.readouterr().err


def test_check_mode_reports_launch_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = {
        "recipe": "r",
        "runs_root": str(tmp_path / "runs"),
        "isaac_groot_dir": str(tmp_path / "Isaac-GR00T"),
        "dataset_path": str(tmp_path / "data"),
        "output_dir": str(tmp_path / "ckpt"),
        "base_model_path": "nvidia/GR00T-N1.6-3B",
        "flags": {"max_steps": 10, "save_steps": 5, "global_batch_size": 2},
        "python": str(tmp_path / "env" / "bin" / "python"),
    }
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    assert main(["train", "start", "--spec", str(path), "--check", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["action"] == "launch" and result["changed"] is True
    # Missing inputs are warnings in check mode (an earlier stage may create them), errors for real.
    assert any("launch script not found" in w for w in result["warnings"])
    assert not (tmp_path / "runs").exists()
    assert main(["train", "start", "--spec", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Isaac-GR00T launch script not found" in err and "dataset not found" in err
    assert f"python interpreter for torchrun not found or not executable: {tmp_path}/env/bin/python" in err
    assert not (tmp_path / "runs" / "active.json").exists()
