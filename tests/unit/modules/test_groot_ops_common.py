"""module_utils/groot_ops_common.py: the groot_module preamble every groot_ops-backed module starts with."""

from __future__ import annotations

import contextlib
import io
import json
import socket
from types import ModuleType
from typing import Any

import pytest
from ansible.module_utils.testing import patch_module_args

from tests.unit.modules.harness import run_module

FAKE_IMPORT_ERROR = "Traceback (most recent call last):\nModuleNotFoundError: No module named 'groot_ops'\n"
TOKEN = "hf_never_in_any_output"

# Smallest valid arguments of each module that builds its AnsibleModule with groot_module.
MINIMAL_ARGS: dict[str, dict[str, Any]] = {
    "groot_convert": {"src": "/nonexistent/raw", "dest": "/nonexistent/groot"},
    "groot_dataset": {
        "repo_id": "ns/name",
        "revision": "main",
        "local_dir": "/nonexistent/raw",
        "token": TOKEN,
    },
    "groot_disk_guard": {"config": {"watch_path": "/nonexistent"}},
    "groot_export": {"checkpoint_dir": "/nonexistent/ckpt", "export_dir": "/nonexistent/export"},
    "groot_hub_upload": {"folder": "/nonexistent/export", "repo_id": "ns/model", "token": TOKEN},
    "groot_merge": {"inputs": ["/nonexistent/a", "/nonexistent/b"], "dest": "/nonexistent/merged"},
    "groot_stats": {"path": "/nonexistent/dataset"},
    "groot_train": {"state": "status", "recipe": "r", "runs_root": "/nonexistent/runs"},
    "groot_validate": {"path": "/nonexistent/dataset"},
}


@pytest.fixture
def common() -> ModuleType:
    # Importable only once the harness has put module_utils/ on ansible.module_utils' path.
    from ansible.module_utils import groot_ops_common

    return groot_ops_common


@pytest.fixture
def without_groot_ops(common: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "GROOT_OPS_IMPORT_ERROR", FAKE_IMPORT_ERROR)


def _build(common: ModuleType, *, check: bool, **kwargs: Any) -> tuple[Any, dict[str, Any] | None]:
    """(module, None) when groot_module returned, (None, result) when it exited the way Ansible does."""
    out = io.StringIO()
    with (
        patch_module_args({"path": "/data", "_ansible_check_mode": check}),
        contextlib.redirect_stdout(out),
    ):
        try:
            return common.groot_module({"path": {"type": "path", "required": True}}, **kwargs), None
        except SystemExit:
            return None, json.loads(out.getvalue())


@pytest.mark.parametrize("check", [False, True])
def test_groot_module_supports_check_mode_and_passes_it_through(common: ModuleType, check: bool) -> None:
    module, exited = _build(common, check=check)
    assert exited is None
    assert module.check_mode is check
    assert module.params["path"] == "/data"


def test_groot_module_can_refuse_check_mode(common: ModuleType) -> None:
    module, exited = _build(common, check=True, supports_check_mode=False)
    assert module is None and exited is not None
    assert exited["skipped"] is True


def test_groot_module_without_groot_ops_names_the_package_and_this_host(
    common: ModuleType, without_groot_ops: None
) -> None:
    module, exited = _build(common, check=False)
    assert module is None and exited is not None
    assert exited["failed"] is True
    assert "groot_ops" in exited["msg"] and socket.gethostname() in exited["msg"]


@pytest.mark.parametrize("name", sorted(MINIMAL_ARGS))
@pytest.mark.parametrize("check", [False, True])
def test_every_module_fails_cleanly_without_groot_ops(
    name: str, check: bool, without_groot_ops: None
) -> None:
    result = run_module(name, MINIMAL_ARGS[name], check=check)
    assert result.get("failed") is True, result
    assert "groot_ops" in result["msg"] and socket.gethostname() in result["msg"], result
    assert TOKEN not in json.dumps(result)


def test_a_wrong_option_is_reported_before_the_missing_package(without_groot_ops: None) -> None:
    result = run_module("groot_stats", {"path": "/nonexistent", "forse": True})
    assert result.get("failed") is True
    assert "forse" in result["msg"] and "groot_ops" not in result["msg"], result
