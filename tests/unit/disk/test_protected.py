from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from groot_ops.disk.config import DiskGuardConfig
from groot_ops.disk.protected import ProtectedPathError, ProtectedSet, build_protected_set, remove_paths
from tests.unit.disk.builders import checkpoint, commit, hf_repo, write_file


def _set(*paths: Path) -> ProtectedSet:
    return ProtectedSet(tuple((str(p), "test") for p in paths))


def test_equal_inside_and_containing_are_refused(tmp_path: Path) -> None:
    keep = tmp_path / "ckpts" / "checkpoint-20"
    write_file(keep / "model.safetensors", 1000)
    protected = _set(keep)
    for path in (keep, keep / "model.safetensors", tmp_path / "ckpts", tmp_path):
        with pytest.raises(ProtectedPathError, match="checkpoint-20"):
            remove_paths([path], protected, check=False)
    assert (keep / "model.safetensors").stat().st_size == 1000


def test_sibling_with_common_prefix_is_not_protected(tmp_path: Path) -> None:
    keep = write_file(tmp_path / "checkpoint-2" / "w", 10)
    other = write_file(tmp_path / "checkpoint-20" / "w", 10)
    remove_paths([other.parent], _set(keep.parent), check=False)
    assert not other.exists()
    assert keep.exists()


def test_symlink_into_protected_set_is_refused(tmp_path: Path) -> None:
    keep = write_file(tmp_path / "exports" / "step-10" / "model.safetensors", 100)
    link = tmp_path / "tmp" / "innocent"
    link.parent.mkdir()
    link.symlink_to(keep.parent.parent)
    with pytest.raises(ProtectedPathError):
        remove_paths([link], _set(tmp_path / "exports"), check=False)
    # A path that walks through the link resolves inside the protected set too.
    with pytest.raises(ProtectedPathError):
        remove_paths([link / "step-10" / "model.safetensors"], _set(tmp_path / "exports"), check=False)
    assert keep.exists()


def test_protected_path_named_through_a_symlinked_dir(tmp_path: Path) -> None:
    real = write_file(tmp_path / "disk2" / "base-model" / "config.json", 10)
    alias = tmp_path / "alias"
    alias.symlink_to(tmp_path / "disk2")
    # Protected via the alias, deletion requested via the real path (and the other way round).
    with pytest.raises(ProtectedPathError):
        remove_paths([real.parent], _set(alias / "base-model"), check=False)
    with pytest.raises(ProtectedPathError):
        remove_paths([alias / "base-model"], _set(real.parent), check=False)
    assert real.exists()


def test_a_refused_path_aborts_the_whole_group(tmp_path: Path) -> None:
    free = write_file(tmp_path / "a" / "x", 10)
    keep = write_file(tmp_path / "b" / "x", 10)
    with pytest.raises(ProtectedPathError):
        remove_paths([free.parent, keep.parent], _set(keep.parent), check=False)
    assert free.exists()
    assert keep.exists()


def test_check_mode_reports_bytes_and_deletes_nothing(tmp_path: Path) -> None:
    victim = write_file(tmp_path / "cache" / "wheel", 64 * 1024)
    would = remove_paths([victim.parent], _set(), check=True)
    assert would >= 64 * 1024
    assert victim.exists()
    assert remove_paths([victim.parent], _set(), check=False) == would
    assert not victim.parent.exists()


def test_hardlinked_files_free_nothing_unless_every_link_goes(tmp_path: Path) -> None:
    shard = write_file(tmp_path / "ckpt" / "model.safetensors", 64 * 1024)
    export = tmp_path / "export" / "model.safetensors"
    export.parent.mkdir()
    os.link(shard, export)
    assert remove_paths([shard.parent], _set(), check=True) < 64 * 1024
    assert remove_paths([shard.parent, export.parent], _set(), check=True) >= 64 * 1024


def test_symlink_is_unlinked_not_followed(tmp_path: Path) -> None:
    target = write_file(tmp_path / "data" / "x", 10)
    link = tmp_path / "link"
    link.symlink_to(target.parent)
    remove_paths([link], _set(), check=False)
    assert not link.exists()
    assert target.exists()


def test_build_protected_set(workspace: Path, base_config: dict[str, Any]) -> None:
    run = workspace / "checkpoints" / "fold"
    checkpoint(run, 10)
    newest = checkpoint(run, 20)
    checkpoint(run, 30, complete=False)
    base = hf_repo(
        workspace / "hf-cache/hub", "nvidia/GR00T-N1.6-3B", {commit(1): {"a": 10}}, {"main": commit(1)}
    )
    ds = hf_repo(
        workspace / "hf-cache/hub",
        "u/G1_Fold",
        {commit(2): {"a": 10}},
        {"main": commit(2)},
        repo_type="dataset",
    )
    cfg = DiskGuardConfig.from_dict(
        {
            **base_config,
            "runs": [
                {"output_dir": str(run), "state": "finished"},
                {"output_dir": str(workspace / "checkpoints" / "busy"), "state": "running"},
            ],
            "dataset_repo_ids": ["u/G1_Fold"],
            "datasets_in_use": [str(workspace / "datasets" / "groot")],
            "protected_paths": [str(workspace / "keep-me")],
        }
    )
    protected = build_protected_set(cfg).paths()
    assert str(newest) in protected
    assert str(run / "checkpoint-10") not in protected
    assert str(run / "checkpoint-30") not in protected
    assert str(workspace / "checkpoints" / "busy") in protected
    for path in (base, ds, workspace / "exports", workspace / "datasets" / "groot", workspace / "keep-me"):
        assert str(path) in protected


def test_a_link_inside_a_deleted_dir_is_not_followed(tmp_path: Path) -> None:
    keep = write_file(tmp_path / "base-model" / "weights", 64 * 1024)
    junk = write_file(tmp_path / "cache" / "pkg" / "wheel", 10)
    (junk.parent / "sneaky").symlink_to(keep.parent)
    freed = remove_paths([tmp_path / "cache" / "pkg"], _set(keep.parent), check=False)
    assert freed < 64 * 1024
    assert not junk.parent.exists()
    assert keep.stat().st_size == 64 * 1024


def test_newest_servable_is_protected_when_the_newest_resumable_lacks_processor_files(
    workspace: Path, base_config: dict[str, Any]
) -> None:
    """A crash after trainer_state.json, before the processor copy: resume and publish need different ones."""
    from tests.checkpoint_factory import write_checkpoint

    run = workspace / "checkpoints" / "fold"
    write_checkpoint(run, 10)
    servable = write_checkpoint(run, 20)
    resumable = write_checkpoint(run, 30)
    for name in ("processor_config.json", "statistics.json", "embodiment_id.json"):
        (resumable / name).unlink()
    cfg = DiskGuardConfig.from_dict({**base_config, "runs": [{"output_dir": str(run), "state": "finished"}]})
    protected = build_protected_set(cfg).paths()
    assert str(servable) in protected and str(resumable) in protected
    assert str(run / "checkpoint-10") not in protected
