"""The disk watchdog's timing and budget before each save, against a fake watchdog (no torchrun).

A real watchdog call blocks the supervisor's poll loop (settle wait + policy); the fake one lets the trainer
run on meanwhile, which is how a save slips past unguarded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from groot_ops.disk import watchdog
from groot_ops.train.logparse import Progress
from groot_ops.train.save_guard import WEIGHTS_SHARE, SaveGuard, next_save
from groot_ops.train.spec import load_spec
from tests.checkpoint_factory import write_checkpoint

SAVE_STEPS = 10
# 0.05 it/s looks one step ahead (WATCH_AHEAD_S x it/s < 1): the watchdog runs one step before each save.
RATE = 0.05


class Trainer:
    """The guard's view of a trainer: the step it is at, and the notes the guard wrote."""

    def __init__(self, tmp_path: Path, max_steps: int = 40, checkpoint_bytes: int = 1024) -> None:
        self.spec = load_spec(
            {
                "recipe": "r1",
                "runs_root": str(tmp_path / "runs"),
                "isaac_groot_dir": str(tmp_path / "isaac-groot"),
                "dataset_path": str(tmp_path / "dataset"),
                "output_dir": str(tmp_path / "checkpoints"),
                "base_model_path": "nvidia/GR00T-N1.6-3B",
                "flags": {"max_steps": max_steps, "save_steps": SAVE_STEPS},
                "disk_guard": {"watch_path": str(tmp_path)},
                "checkpoint_bytes": checkpoint_bytes,
            }
        )
        self.notes: list[str] = []
        self.terminated = False
        self.step = 0
        self.guard = SaveGuard(self.spec, self.notes.append, self.stop)

    def stop(self) -> None:
        self.terminated = True

    def run_to(self, step: int) -> None:
        self.step = step

    def poll(self) -> None:
        self.guard.check(Progress(step=self.step, it_s=RATE, progress_seen=True), None)

    @property
    def log(self) -> str:
        return "\n".join(self.notes)


def fake_watchdog(
    monkeypatch: pytest.MonkeyPatch, during_first_call: Callable[[], None] = lambda: None, status: str = "ok"
) -> list[int | None]:
    asked: list[int | None] = []

    def ensure_fits(config: dict[str, Any], *, next_checkpoint_bytes: int | None) -> dict[str, Any]:
        asked.append(next_checkpoint_bytes)
        if len(asked) == 1:
            during_first_call()
        return {"status": status, "message": "m"}

    monkeypatch.setattr(watchdog, "ensure_fits", ensure_fits)
    return asked


def test_next_save_includes_the_last_step() -> None:
    # HF's DefaultFlowCallback saves at every multiple of save_steps and at max_steps.
    assert [next_save(s, 10, 25) for s in (0, 9, 10, 19, 20, 24, 25)] == [10, 10, 20, 20, 25, 25, None]


def test_a_save_made_during_a_watchdog_call_is_reported_unguarded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trainer = Trainer(tmp_path)
    asked = fake_watchdog(monkeypatch, lambda: trainer.run_to(29))
    trainer.run_to(9)
    trainer.poll()  # step 9: checks before checkpoint-10, returns at step 29
    trainer.poll()  # step 29: checkpoint-20 went by; checks before checkpoint-30
    assert "checkpoint-20 was saved before the disk watchdog could check it" in trainer.log
    assert (
        "disk watchdog before checkpoint-10 (needs 1024 bytes: checkpoint 1024 (configured)): ok"
        in trainer.log
    )
    assert "disk watchdog before checkpoint-30 (" in trainer.log
    assert "disk watchdog before checkpoint-20" not in trainer.log
    assert len(asked) == 2


def test_an_unguarded_save_is_noted_once_however_often_the_loop_polls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trainer = Trainer(tmp_path)
    asked = fake_watchdog(monkeypatch, lambda: trainer.run_to(21))
    trainer.run_to(9)
    for _ in range(4):
        trainer.poll()
    trainer.run_to(29)
    trainer.poll()
    assert trainer.log.count("checkpoint-20 was saved before the disk watchdog could check it") == 1
    assert len(asked) == 2


def test_the_first_checkpoint_is_guarded_with_the_configured_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trainer = Trainer(tmp_path, checkpoint_bytes=22 * 10**9)
    asked = fake_watchdog(monkeypatch)
    trainer.run_to(9)
    trainer.poll()
    assert asked == [22 * 10**9]


def test_the_last_save_also_counts_the_final_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # max_steps 25: the saves are 10, 20 and 25; after 25 trainer.save_model() writes the weights again.
    trainer = Trainer(tmp_path, max_steps=25, checkpoint_bytes=22_000)
    asked = fake_watchdog(monkeypatch)
    trainer.run_to(24)
    trainer.poll()
    assert asked == [22_000 + int(22_000 * WEIGHTS_SHARE)]
    assert "disk watchdog before checkpoint-25 (" in trainer.log and "+ final weights" in trainer.log

    # Once a checkpoint exists, both sizes are learned from it: a hardlinked export of it adds nothing.
    ckpt = write_checkpoint(trainer.spec.checkpoint_dir, 20, shard_bytes=8192)
    export = tmp_path / "exports" / "step-20"
    export.mkdir(parents=True)
    for shard in ckpt.glob("model-*.safetensors"):
        (export / shard.name).hardlink_to(shard)
    need, how = trainer.guard.need_bytes(25)
    from groot_ops.disk.usage import allocated_bytes
    from groot_ops.train.checkpoints import weights_bytes

    assert need == allocated_bytes([ckpt]) + weights_bytes(ckpt)
    assert "(learned)" in how and weights_bytes(ckpt) >= 2 * 8192


def test_insufficient_stops_the_trainer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trainer = Trainer(tmp_path)
    fake_watchdog(monkeypatch, status="insufficient")
    trainer.run_to(9)
    trainer.poll()
    assert trainer.terminated and trainer.guard.stop is not None
    assert trainer.guard.stop["next_checkpoint"] == 10
