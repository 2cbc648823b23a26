"""groot_controller_report: a JSON report on the controller in one step without a module process, its
directory created."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tests.unit.modules.harness import run_action


def test_writes_the_report_and_its_directory_and_never_reports_a_change(tmp_path: Path) -> None:
    path = tmp_path / ".state" / "preflight" / "lab-ws.json"
    verdict = {"host": "lab-ws", "ok": False, "checks": [{"name": "disk:datasets", "ok": False}]}
    result = run_action("groot_controller_report", {"path": str(path), "content": verdict})
    assert result["changed"] is False and result["path"] == str(path)
    assert json.loads(path.read_text()) == verdict
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o750
    rewritten = run_action("groot_controller_report", {"path": str(path), "content": {"ok": True}})
    assert rewritten["changed"] is False and json.loads(path.read_text()) == {"ok": True}


def test_an_unwritable_place_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    failed = run_action("groot_controller_report", {"path": str(blocker / "v.json"), "content": {}})
    assert failed["failed"] is True and f"cannot write {blocker / 'v.json'}" in failed["msg"]


def test_check_mode_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "v.json"
    skipped = run_action("groot_controller_report", {"path": str(path), "content": {}}, check=True)
    assert skipped["skipped"] is True and not path.exists()


def test_a_wrong_option_is_refused_by_name(tmp_path: Path) -> None:
    from ansible.errors import AnsibleActionFail

    with pytest.raises(AnsibleActionFail, match="colour"):
        run_action("groot_controller_report", {"path": str(tmp_path / "v.json"), "content": {}, "colour": 1})
