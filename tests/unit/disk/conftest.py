from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    for name in ("hf-cache/hub", "checkpoints", "exports", "datasets", "tmp", "pip", "uv", "conda"):
        (tmp_path / name).mkdir(parents=True)
    return tmp_path


@pytest.fixture
def base_config(workspace: Path) -> dict[str, Any]:
    """Acts always and never reaches its goal: every step reclaims all it may (the worst case)."""
    return {
        "watch_path": str(workspace),
        "act_below_percent": 100,
        "stop_at_percent": 100,
        "hf_cache": str(workspace / "hf-cache/hub"),
        "hf_incomplete_min_age_minutes": 0,
        "hf_repo_min_idle_days": 0,
        "quarantine_dir": str(workspace / "checkpoints/.quarantine"),
        "exports_dir": str(workspace / "exports"),
        "tmp_dir": str(workspace / "tmp"),
    }
