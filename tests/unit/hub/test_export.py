"""Inference-only export: contents, refusal of incomplete checkpoints, idempotence, check mode."""

from __future__ import annotations

import os

import pytest

from groot_ops.errors import InputError
from groot_ops.hub.export import choose_checkpoint, export_inference_model
from tests.checkpoint_factory import write_checkpoint

INFERENCE = {
    "config.json",
    "embodiment_id.json",
    "experiment_cfg/config.yaml",
    "experiment_cfg/final_model_config.json",
    "model-00001-of-00002.safetensors",
    "model-00002-of-00002.safetensors",
    "model.safetensors.index.json",
    "processor_config.json",
    "statistics.json",
}


def _tree(root):
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("multi_gpu", [False, True])
def test_export_is_exactly_the_inference_files_as_hardlinks(tmp_path, multi_gpu):
    ckpt = write_checkpoint(tmp_path / "out", 30, multi_gpu=multi_gpu)
    result = export_inference_model(ckpt, tmp_path / "export")
    assert result["changed"] is True and result["step"] == 30
    assert _tree(tmp_path / "export") == INFERENCE
    assert result["linked"] == len(INFERENCE) and result["copied"] == 0
    shard = "model-00001-of-00002.safetensors"
    assert os.path.samefile(ckpt / shard, tmp_path / "export" / shard)
    assert {f["path"] for f in result["files"]} == INFERENCE


def test_second_run_is_unchanged_and_keeps_the_card(tmp_path):
    write_checkpoint(tmp_path / "out", 10)
    export = tmp_path / "export"
    export_inference_model(tmp_path / "out", export)
    (export / "README.md").write_text("card")
    again = export_inference_model(tmp_path / "out", export)
    assert again["changed"] is False
    write_checkpoint(tmp_path / "out", 20)
    newer = export_inference_model(tmp_path / "out", export)
    assert newer["changed"] is True and newer["step"] == 20
    assert (export / "README.md").read_text() == "card"


def test_check_mode_writes_nothing(tmp_path):
    write_checkpoint(tmp_path / "out", 10)
    result = export_inference_model(tmp_path / "out", tmp_path / "export", check=True)
    assert result["changed"] is True and not (tmp_path / "export").exists()
    assert result["diff"]["before"] == [] and "config.json" in result["diff"]["after"]


def test_incomplete_checkpoint_is_refused_naming_what_is_missing(tmp_path):
    ckpt = write_checkpoint(tmp_path / "out", 10, complete=False)
    (ckpt / "statistics.json").unlink()
    with pytest.raises(
        InputError, match=r"missing: model-00002-of-00002\.safetensors, statistics\.json"
    ) as err:
        export_inference_model(ckpt, tmp_path / "export")
    assert "checkpoint-10" in str(err.value)
    assert not (tmp_path / "export").exists()


def test_default_is_the_newest_complete_checkpoint(tmp_path):
    write_checkpoint(tmp_path / "out", 10)
    write_checkpoint(tmp_path / "out", 20, complete=False)
    assert choose_checkpoint(tmp_path / "out").name == "checkpoint-10"
    assert choose_checkpoint(tmp_path / "out", step=20).name == "checkpoint-20"
    with pytest.raises(InputError, match="no checkpoint for step 99"):
        choose_checkpoint(tmp_path / "out", step=99)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"no complete \(servable\) checkpoint"):
        choose_checkpoint(tmp_path / "empty")


def test_bad_index_and_stray_shards_are_errors(tmp_path):
    ckpt = write_checkpoint(tmp_path / "out", 10)
    (ckpt / "model-00009-of-00009.safetensors").write_bytes(b"x")
    with pytest.raises(InputError, match=r"shards not named in model\.safetensors\.index\.json"):
        export_inference_model(ckpt, tmp_path / "export")
    (ckpt / "model.safetensors.index.json").write_text("{not json")
    with pytest.raises(InputError, match=r"missing: model\.safetensors\.index\.json \(unreadable\)"):
        export_inference_model(ckpt, tmp_path / "export")
    with pytest.raises(InputError, match="does not exist"):
        export_inference_model(tmp_path / "nope" / "checkpoint-3", tmp_path / "export")


def test_failed_export_leaves_previous_export_intact(tmp_path):
    write_checkpoint(tmp_path / "out", 10)
    export = tmp_path / "export"
    export_inference_model(tmp_path / "out", export)
    before = _tree(export)
    broken = write_checkpoint(tmp_path / "out2", 20)
    (broken / "config.json").unlink()
    with pytest.raises(InputError):
        export_inference_model(broken, export)
    assert _tree(export) == before
