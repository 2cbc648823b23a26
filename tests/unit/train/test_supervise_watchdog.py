"""The supervisor's disk-watchdog timing against fed trainer output and a fake watchdog (no torchrun).

A real watchdog call blocks the supervisor's poll loop (settle wait + policy); the fake one lets the trainer
run on meanwhile by feeding its output, which is how a save slips past unguarded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from groot_ops.disk import watchdog
from groot_ops.train.supervise import Supervisor

MAX_STEPS = 40
SAVE_STEPS = 10
# 0.05 it/s looks one step ahead (WATCH_AHEAD_S x it/s < 1): the watchdog runs one step before each save.
RATE = "0.05it/s"


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Supervisor]:
    run_dir = tmp_path / "runs" / "r1"
    run_dir.mkdir(parents=True)
    spec = {
        "recipe": "r1",
        "runs_root": str(tmp_path / "runs"),
        "isaac_groot_dir": str(tmp_path / "isaac-groot"),
        "dataset_path": str(tmp_path / "dataset"),
        "output_dir": str(tmp_path / "checkpoints"),
        "base_model_path": "nvidia/GR00T-N1.6-3B",
        "flags": {"max_steps": MAX_STEPS, "save_steps": SAVE_STEPS},
        "disk_guard": {"watch_path": str(tmp_path)},
        "checkpoint_bytes": 1024,
    }
    (run_dir / "spec.json").write_text(json.dumps(spec))
    (run_dir / "cmdline.json").write_text(json.dumps({"argv": ["torchrun", "launch_finetune.py"]}))
    sup = Supervisor(run_dir)
    yield sup
    sup.log_handle.close()


def train(sup: Supervisor, first: int, last: int) -> None:
    """The trainer's output for steps first..last, with HF's save line at every save_steps."""
    for step in range(first, last + 1):
        pct = 100 * step // MAX_STEPS
        # The bar as the stand-in (and tqdm) prints it; the line end lets the parser take it at once.
        sup._record(f"\r{pct:3d}%|| {step}/{MAX_STEPS} [00:00<00:00, {RATE}]\n".encode())
        if step % SAVE_STEPS == 0:
            sup._record(f"Saving model checkpoint to {sup.spec.output_dir}/checkpoint-{step}\n".encode())


def fake_watchdog(
    monkeypatch: pytest.MonkeyPatch, during_first_call: Callable[[], None] = lambda: None
) -> list[int | None]:
    """Replace ensure_fits; returns the list of sizes it was asked about. The first call runs
    ``during_first_call``: what the trainer does while the supervisor waits for the watchdog."""
    asked: list[int | None] = []

    def ensure_fits(config: dict[str, Any], *, next_checkpoint_bytes: int | None) -> dict[str, Any]:
        asked.append(next_checkpoint_bytes)
        if len(asked) == 1:
            during_first_call()
        return {"status": "ok"}

    monkeypatch.setattr(watchdog, "ensure_fits", ensure_fits)
    return asked


def test_a_save_made_during_a_watchdog_call_is_reported_unguarded(
    supervisor: Supervisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # While the watchdog checks before checkpoint-10, the trainer saves 10 and 20 and reaches step 29.
    asked = fake_watchdog(monkeypatch, lambda: train(supervisor, 10, 29))
    train(supervisor, 1, 9)
    supervisor.maybe_watch_disk()  # step 9: checks before checkpoint-10, returns at step 29
    supervisor.maybe_watch_disk()  # step 29: checkpoint-20 went by; checks before checkpoint-30

    log = supervisor.files.log.read_text()
    assert "checkpoint-20 was saved before the disk watchdog could check it" in log
    assert "disk watchdog before checkpoint-10 (needs 1024 bytes): ok" in log
    assert "disk watchdog before checkpoint-30 (needs 1024 bytes): ok" in log
    assert "disk watchdog before checkpoint-20" not in log
    assert len(asked) == 2


def test_no_note_when_every_save_was_checked(supervisor: Supervisor, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = fake_watchdog(monkeypatch)
    train(supervisor, 1, 9)
    supervisor.maybe_watch_disk()
    train(supervisor, 10, 19)
    supervisor.maybe_watch_disk()

    log = supervisor.files.log.read_text()
    assert "disk watchdog before checkpoint-10 (" in log and "disk watchdog before checkpoint-20 (" in log
    assert "before the disk watchdog could check it" not in log
    assert len(asked) == 2


def test_an_unguarded_save_is_noted_once_however_often_the_loop_polls(
    supervisor: Supervisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The watchdog call before checkpoint-10 lasts until step 21: checkpoint-20 goes by unchecked, and
    # checkpoint-30 is still too far ahead to check at the next polls.
    asked = fake_watchdog(monkeypatch, lambda: train(supervisor, 10, 21))
    train(supervisor, 1, 9)
    for _ in range(4):
        supervisor.maybe_watch_disk()
    train(supervisor, 22, 29)
    supervisor.maybe_watch_disk()

    log = supervisor.files.log.read_text()
    assert log.count("checkpoint-20 was saved before the disk watchdog could check it") == 1
    assert "disk watchdog before checkpoint-30 (needs 1024 bytes): ok" in log
    assert len(asked) == 2
