"""Datasets shared by the data-engine unit tests (built once per session, copied before mutation)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.data_factory import make_groot, make_long_v30, make_raw


@pytest.fixture(scope="session")
def raw_v21(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_raw(tmp_path_factory.mktemp("raw") / "v21")


@pytest.fixture(scope="session")
def raw_v30(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_raw(tmp_path_factory.mktemp("raw") / "v30", version="v3.0")


@pytest.fixture(scope="session")
def groot_v21(tmp_path_factory: pytest.TempPathFactory, raw_v21: Path) -> Path:
    return make_groot(tmp_path_factory.mktemp("groot") / "v21", raw_v21)


@pytest.fixture(scope="session", params=["h264", "av1"])
def raw_long_v30(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,500-frame v3.0 episodes from an H.264 and from an AV1 source (the Hub's codec)."""
    return make_long_v30(tmp_path_factory.mktemp("raw") / f"long-{request.param}", codec=request.param)
