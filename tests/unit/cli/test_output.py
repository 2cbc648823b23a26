"""emit(): one JSON document with --json, the human text otherwise; layouts the commands rely on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groot_ops.cli.main import main
from groot_ops.cli.output import emit
from tests.checkpoint_factory import write_checkpoint

RESULT = {"changed": True, "path": "/x", "diff": {"before": 1, "after": 2}}


def test_json_is_one_parseable_line_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    emit(RESULT, True, "human text")
    out = capsys.readouterr().out
    assert out == json.dumps(RESULT) + "\n"
    assert json.loads(out) == RESULT


def test_json_indent_and_omit(capsys: pytest.CaptureFixture[str]) -> None:
    emit(RESULT, True, "human text", indent=2, omit=("diff",))
    out = capsys.readouterr().out
    assert out == json.dumps({"changed": True, "path": "/x"}, indent=2) + "\n"
    assert "diff" in RESULT  # the caller's result is left as it was


def test_json_turns_stray_objects_into_strings(capsys: pytest.CaptureFixture[str]) -> None:
    emit({"dir": Path("/data/x")}, True, "")
    assert json.loads(capsys.readouterr().out) == {"dir": "/data/x"}


def test_human_text(capsys: pytest.CaptureFixture[str]) -> None:
    emit(RESULT, False, "unchanged: /x\n  - detail")
    assert capsys.readouterr().out == "unchanged: /x\n  - detail\n"


def test_human_callable_is_only_built_when_printed(capsys: pytest.CaptureFixture[str]) -> None:
    def boom() -> str:
        raise AssertionError("the human text must not be built in JSON mode")

    emit(RESULT, True, boom)
    assert json.loads(capsys.readouterr().out) == RESULT
    emit(RESULT, False, lambda: "built")
    assert capsys.readouterr().out == "built\n"


def test_train_json_keeps_its_indented_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["train", "status", "--runs-root", str(tmp_path), "--recipe", "nothing"]
    assert main([*argv, "--json"]) == 0
    out = capsys.readouterr().out
    assert out == json.dumps(json.loads(out), indent=2) + "\n"
    assert main(argv) == 0
    human = capsys.readouterr().out
    assert human.startswith("nothing") and not human.lstrip().startswith("{")


def test_hub_json_is_one_line_without_the_ansible_diff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_checkpoint(tmp_path / "out", 3)
    assert main(["hub", "export", str(tmp_path / "out"), str(tmp_path / "export"), "--check", "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    result = json.loads(out)
    assert result["changed"] is True and "diff" not in result
