"""Hub integration tests: a fresh test Hub per test (see tests/hub_server/fixtures.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.hub_server.fixtures import hub, hub_any

__all__ = ["hub", "hub_any", "raw_dataset"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # huggingface_hub 2.x passes bytes as data= to httpx2 on every upload; the warning is the client's.
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning"))


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@pytest.fixture
def raw_dataset(tmp_path: Path) -> Path:
    """A small raw Unitree dataset in the LeRobot v2.1 layout with two cameras (bytes are noise)."""
    root = tmp_path / "raw-src"
    _write(root / "meta" / "info.json", b'{"codebase_version": "v2.1", "fps": 30}\n')
    _write(root / "meta" / "tasks.jsonl", b'{"task_index": 0, "task": "Fold the towel."}\n')
    for ep in range(2):
        _write(root / "data" / "chunk-000" / f"episode_{ep:06d}.parquet", os.urandom(3000 + ep))
        for cam in ("cam_left_high", "cam_right_high"):
            _write(
                root / "videos" / "chunk-000" / f"observation.images.{cam}" / f"episode_{ep:06d}.mp4",
                os.urandom(5000 + ep),
            )
    _write(root / "README.md", b"# raw dataset\n")
    return root
