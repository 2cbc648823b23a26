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


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_outputs_follow_the_umask_so_other_users_can_read_them(tmp_path: Path, umask_022: None) -> None:
    # Issue 16 item 9: mkstemp/mkdtemp left stats.json 0600 and dataset roots 0700.
    atomic.write_json(tmp_path / "meta" / "stats.json", {"a": 1})
    assert _mode(tmp_path / "meta" / "stats.json") == 0o644
    target = tmp_path / "dataset"
    with atomic.staged_directory(target) as staging:
        (staging / "meta").mkdir()
        atomic.write_text(staging / "meta" / "info.json", "{}")
    assert _mode(target) == 0o755
    assert _mode(target / "meta" / "info.json") == 0o644


def test_a_stricter_umask_is_honoured(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        atomic.write_text(tmp_path / "x.txt", "x")
        with atomic.staged_directory(tmp_path / "d"):
            pass
    finally:
        os.umask(old)
    assert _mode(tmp_path / "x.txt") == 0o600
    assert _mode(tmp_path / "d") == 0o700


def test_secrets_stay_owner_only_whatever_the_umask(tmp_path: Path, umask_022: None) -> None:
    atomic.write_json(tmp_path / "secrets.json", {"WANDB_API_KEY": "k"}, mode=atomic.SECRET_MODE)
    assert _mode(tmp_path / "secrets.json") == 0o600


def test_current_umask_reads_without_changing_it(umask_022: None) -> None:
    assert atomic.current_umask() == 0o022
    assert os.umask(0o022) == 0o022
