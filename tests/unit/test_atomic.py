from __future__ import annotations

import os
from pathlib import Path

import pytest

from groot_ops import atomic


def test_staged_directory_replaces_target_only_on_success(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_text("old")

    with atomic.staged_directory(target) as staging:
        (staging / "new.txt").write_text("new")
        # Until the block ends the previous output is still what readers see.
        assert (target / "old.txt").read_text() == "old"

    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"], "no staging or old dirs left behind"


def test_staged_directory_keeps_previous_output_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("good")

    with pytest.raises(RuntimeError), atomic.staged_directory(target) as staging:
        (staging / "partial.txt").write_text("half")
        raise RuntimeError("boom")

    assert (target / "keep.txt").read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_write_json_is_atomic_and_leaves_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "meta" / "x.json"
    atomic.write_json(path, {"a": 1})
    assert path.read_text() == '{\n  "a": 1\n}\n'
    assert os.listdir(path.parent) == ["x.json"]


def test_link_or_copy_hardlinks_on_same_filesystem(tmp_path: Path) -> None:
    src = tmp_path / "a.bin"
    src.write_bytes(b"x" * 10)
    how = atomic.link_or_copy(src, tmp_path / "sub" / "b.bin")
    assert how == "link"
    assert (tmp_path / "sub" / "b.bin").stat().st_ino == src.stat().st_ino
