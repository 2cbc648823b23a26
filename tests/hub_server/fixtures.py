"""Pytest fixtures for the test Hub: ``hub`` (Xet off) and ``hub_any`` (parametrized Xet off / local CAS).

Use with ``pytest_plugins = ["tests.hub_server.fixtures"]`` in a conftest, or import the fixtures.
Each test gets its own server, storage, ``HF_HOME`` and tokens.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hub_server.seed import seed_folder
from tests.hub_server.server import HubServer

WRITE_TOKEN = "hf_testwritetoken0123456789abcdef"
OTHER_TOKEN = "hf_othertoken9876543210fedcba"


@dataclass
class HubHandle:
    server: HubServer
    token: str
    xet: bool

    @property
    def url(self) -> str:
        return self.server.url

    def seed(self, repo_id: str, folder: str | Path, **kwargs) -> str:
        return seed_folder(self.url, self.token, repo_id, folder, **kwargs)


def _start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, xet: bool) -> Iterator[HubHandle]:
    from huggingface_hub import constants
    from huggingface_hub.utils import disable_progress_bars

    disable_progress_bars()
    home = tmp_path / "hf-home"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setattr(constants, "HF_HOME", str(home))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(home / "token"))
    # Xet mode is a client setting read at import time; tests choose it per server.
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", not xet)
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "0" if xet else "1")
    cas = tmp_path / "xet-cas" if xet else None
    server = HubServer(
        tmp_path / "hub-storage", tokens={WRITE_TOKEN: "groot", OTHER_TOKEN: "other"}, xet_cas_dir=cas
    )
    with server:
        yield HubHandle(server=server, token=WRITE_TOKEN, xet=xet)


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubHandle]:
    yield from _start(tmp_path, monkeypatch, xet=False)


@pytest.fixture(params=["lfs", "xet"])
def hub_any(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[HubHandle]:
    if request.param == "xet":
        import importlib.util

        if importlib.util.find_spec("hf_xet") is None:
            pytest.skip("XET MODE NOT TESTED: hf_xet is not installed")
    yield from _start(tmp_path, monkeypatch, xet=request.param == "xet")
