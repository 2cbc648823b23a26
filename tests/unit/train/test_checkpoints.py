"""Checkpoint completeness and quarantine against fixture directories (contract section 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groot_ops.train import checkpoints


def make_checkpoint(root: Path, step: int, *, shards: int = 2, drop: tuple[str, ...] = ()) -> Path:
    ckpt = root / f"checkpoint-{step}"
    (ckpt / "experiment_cfg").mkdir(parents=True)
    names = [f"model-{i:05d}-of-{shards:05d}.safetensors" for i in range(1, shards + 1)]
    weight_map = {f"layer{i}.weight": name for i, name in enumerate(names)}
    files = {
        "config.json": "{}",
        "model.safetensors.index.json": json.dumps({"metadata": {}, "weight_map": weight_map}),
        "trainer_state.json": json.dumps({"global_step": step}),
        "training_args.bin": "x",
        "optimizer.pt": "x",
        "scheduler.pt": "x",
        "rng_state.pth": "x",
        "processor_config.json": "{}",
        "statistics.json": "{}",
        "embodiment_id.json": "{}",
        **{name: "weights" for name in names},
    }
    for name, text in files.items():
        if name not in drop:
            (ckpt / name).write_text(text)
    return ckpt


def test_complete_checkpoint(tmp_path: Path) -> None:
    ckpt = make_checkpoint(tmp_path, 10)
    assert checkpoints.is_complete(ckpt)
    assert checkpoints.missing_files(ckpt) == []


def test_missing_trainer_state_or_shard_is_incomplete(tmp_path: Path) -> None:
    no_state = make_checkpoint(tmp_path, 10, drop=("trainer_state.json",))
    no_shard = make_checkpoint(tmp_path, 20, drop=("model-00002-of-00002.safetensors",))
    assert checkpoints.missing_files(no_state) == ["trainer_state.json"]
    assert checkpoints.missing_files(no_shard) == ["model-00002-of-00002.safetensors"]
    assert not checkpoints.is_complete(no_shard)


def test_empty_shard_and_unreadable_index_are_incomplete(tmp_path: Path) -> None:
    ckpt = make_checkpoint(tmp_path, 10)
    (ckpt / "model-00001-of-00002.safetensors").write_bytes(b"")
    assert checkpoints.missing_files(ckpt) == ["model-00001-of-00002.safetensors"]
    (ckpt / "model.safetensors.index.json").write_text("{truncated")
    assert "unreadable" in checkpoints.missing_files(ckpt)[0]


def test_unsharded_small_model_is_complete_without_index(tmp_path: Path) -> None:
    ckpt = tmp_path / "checkpoint-5"
    ckpt.mkdir()
    (ckpt / "trainer_state.json").write_text("{}")
    (ckpt / "optimizer.pt").write_text("x")
    assert checkpoints.missing_files(ckpt) == ["model.safetensors"]
    (ckpt / "model.safetensors").write_bytes(b"w")
    assert checkpoints.is_complete(ckpt)


def test_without_optimizer_state_it_is_not_resumable(tmp_path: Path) -> None:
    # HF Trainer would resume it with a fresh optimizer: a warm start, not a resume.
    ckpt = make_checkpoint(tmp_path, 10, drop=("optimizer.pt",))
    assert checkpoints.missing_files(ckpt, checkpoints.RESUMABLE) == [
        "optimizer.pt (or global_step10/*optim_states.pt)"
    ]
    assert checkpoints.is_complete(ckpt, checkpoints.SERVABLE)
    zero = ckpt / "global_step10"
    zero.mkdir()
    (zero / "bf16_zero_pp_rank_0_mp_rank_00_optim_states.pt").write_text("x")
    assert checkpoints.is_complete(ckpt, checkpoints.RESUMABLE)


def test_crash_between_trainer_state_and_processor_copy(tmp_path: Path) -> None:
    """Upstream writes trainer_state.json, then CheckpointFormatCallback copies the processor files."""
    make_checkpoint(tmp_path, 10)
    crashed = make_checkpoint(
        tmp_path, 20, drop=("processor_config.json", "statistics.json", "embodiment_id.json")
    )
    assert checkpoints.latest_complete(tmp_path, checkpoints.RESUMABLE) == crashed
    assert checkpoints.latest_complete(tmp_path, checkpoints.SERVABLE) == tmp_path / "checkpoint-10"
    assert checkpoints.missing_files(crashed, checkpoints.SERVABLE) == [
        "processor_config.json",
        "statistics.json",
        "embodiment_id.json",
    ]
    # The trainer resumes from it, so it is not quarantined.
    assert checkpoints.quarantine_incomplete(tmp_path, tmp_path / "q", check=True) == []


def test_export_and_publish_ask_the_same_rule(tmp_path: Path) -> None:
    from groot_ops.hub.export import choose_checkpoint, export_inference_model

    make_checkpoint(tmp_path / "out", 10)
    make_checkpoint(tmp_path / "out", 20, drop=("statistics.json",))
    picked = checkpoints.latest_complete(tmp_path / "out", checkpoints.SERVABLE)
    assert picked == choose_checkpoint(tmp_path / "out") == tmp_path / "out" / "checkpoint-10"
    assert export_inference_model(picked, tmp_path / "export")["step"] == 10


def test_unknown_need_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="need must be one of"):
        checkpoints.missing_files(make_checkpoint(tmp_path, 1), "exportable")  # type: ignore[arg-type]


def test_latest_complete_uses_numeric_order_and_skips_half_written(tmp_path: Path) -> None:
    make_checkpoint(tmp_path, 9)
    make_checkpoint(tmp_path, 10)
    make_checkpoint(tmp_path, 100, drop=("trainer_state.json",))
    (tmp_path / "checkpoint-x").mkdir()
    (tmp_path / "experiment_cfg").mkdir()
    assert [p.name for p in checkpoints.list_checkpoints(tmp_path)] == [
        "checkpoint-9",
        "checkpoint-10",
        "checkpoint-100",
    ]
    assert checkpoints.latest_complete(tmp_path) == tmp_path / "checkpoint-10"
    assert checkpoints.latest_complete(tmp_path / "absent") is None


def test_quarantine_moves_incomplete_and_keeps_them(tmp_path: Path) -> None:
    out, quarantine = tmp_path / "out", tmp_path / "q"
    make_checkpoint(out, 10)
    bad = make_checkpoint(out, 20, drop=("model-00001-of-00002.safetensors",))
    planned = checkpoints.quarantine_incomplete(out, quarantine, check=True)
    assert [Path(p["checkpoint"]).name for p in planned] == ["checkpoint-20"]
    assert bad.exists() and not quarantine.exists()
    moved = checkpoints.quarantine_incomplete(out, quarantine)
    assert not bad.exists()
    target = Path(moved[0]["quarantine"])
    assert target.parent == quarantine and target.name.startswith("checkpoint-20-")
    assert (target / "trainer_state.json").exists()
    assert "model-00001-of-00002.safetensors" in moved[0]["missing"]
    assert checkpoints.quarantine_incomplete(out, quarantine) == []
    assert checkpoints.latest_complete(out) == out / "checkpoint-10"
