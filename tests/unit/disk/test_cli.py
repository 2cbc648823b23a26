from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from groot_ops.cli.main import main
from tests.unit.disk.builders import write_file


def _config(tmp_path: Path, config: dict[str, Any]) -> str:
    path = tmp_path / "disk.yml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_report_then_clean_check_then_clean(
    workspace: Path, base_config: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = write_file(workspace / "pip" / "wheel", 100_000)
    relaxed = {**base_config, "act_below_percent": 0, "stop_at_percent": 0}
    cfg = _config(workspace, {**relaxed, "pip_cache_dirs": [str(workspace / "pip")]})

    assert main(["disk", "report", "--config", cfg, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["reclaimable_bytes"] >= 100_000
    assert wheel.exists()

    assert main(["disk", "clean", "--config", cfg, "--check"]) == 0
    assert "above the watermarks" in capsys.readouterr().out
    assert main(["disk", "clean", "--config", cfg, "--check", "--all"]) == 0
    assert "would free" in capsys.readouterr().out
    assert wheel.exists()

    assert main(["disk", "clean", "--config", cfg, "--all", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["freed_bytes"] >= 100_000
    assert not wheel.exists()


def test_clean_exits_3_when_still_short(
    workspace: Path, base_config: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _config(workspace, base_config)
    assert main(["disk", "clean", "--config", cfg, "--need-bytes", str(10**18)]) == 3
    assert main(["disk", "clean", "--config", cfg, "--need-bytes", "-1"]) == 1
    assert "--need-bytes" in capsys.readouterr().err


def test_fits_exit_codes(
    workspace: Path, base_config: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _config(workspace, {**base_config, "act_below_percent": 0, "stop_at_percent": 0})
    assert main(["disk", "fits", "--config", cfg, "--checkpoint-bytes", "1000"]) == 0
    assert capsys.readouterr().out.startswith("ok:")
    assert main(["disk", "fits", "--config", cfg, "--checkpoint-bytes", str(10**18), "--json"]) == 3
    assert json.loads(capsys.readouterr().out)["status"] == "insufficient"


def test_bad_config_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _config(tmp_path, {"watch_path": str(tmp_path), "stop_at_precent": 20})
    assert main(["disk", "clean", "--config", bad]) == 1
    assert "stop_at_precent" in capsys.readouterr().err
    assert main(["disk", "report", "--config", str(tmp_path / "missing.yml"), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and "missing.yml" in out["error"]
