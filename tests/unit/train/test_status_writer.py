"""status.json from the live view and the filesystem: saves seen on disk, phases, no ETA once ended."""

from __future__ import annotations

import json
from pathlib import Path

from groot_ops.train.history import Attempts
from groot_ops.train.logparse import Progress
from groot_ops.train.runfiles import RunFiles
from groot_ops.train.spec import load_spec
from groot_ops.train.status_writer import StatusWriter
from tests.checkpoint_factory import write_checkpoint


def writer(tmp_path: Path) -> StatusWriter:
    spec = load_spec(
        {
            "recipe": "r1",
            "runs_root": str(tmp_path / "runs"),
            "isaac_groot_dir": str(tmp_path / "isaac"),
            "dataset_path": str(tmp_path / "data"),
            "output_dir": str(tmp_path / "ckpt"),
            "base_model_path": "nvidia/GR00T-N1.6-3B",
            "flags": {"max_steps": 40, "save_steps": 10},
        }
    )
    files = RunFiles(spec.runs_root, spec.recipe)
    files.dir.mkdir(parents=True)
    return StatusWriter(spec, files, Attempts(files.attempts))


RUNNING = Progress(step=15, max_steps=40, it_s=2.0, eta_s=12.5, output_seen=True, progress_seen=True)


def test_a_save_is_what_appears_on_disk(tmp_path: Path) -> None:
    w = writer(tmp_path)
    out = Path(w.spec.output_dir)
    write_checkpoint(out, 10)
    assert w.live_state(RUNNING) == "running"
    half = write_checkpoint(out, 20)
    (half / "trainer_state.json").unlink()  # weights written, the rest still to come
    assert w.live_state(RUNNING) == "saving" and w.saving() == half
    (half / "trainer_state.json").write_text("{}")
    (half / "statistics.json").unlink()  # trainer_state.json is there; the processor copy is not yet
    assert w.live_state(RUNNING) == "saving"
    (half / "statistics.json").write_text("{}")
    assert w.live_state(RUNNING) == "running"


def test_a_checkpoint_resumed_from_is_not_being_saved(tmp_path: Path) -> None:
    """After a crash during the processor copy the run resumes from that checkpoint; it stays unservable."""
    w = writer(tmp_path)
    ckpt = write_checkpoint(Path(w.spec.output_dir), 20)
    (ckpt / "statistics.json").unlink()
    w.attempt_start_step = 20
    assert w.live_state(RUNNING) == "running"


def test_phases_before_training_read_starting(tmp_path: Path) -> None:
    w = writer(tmp_path)
    loading = Progress(phase="Loading checkpoint shards 1/2", output_seen=True)
    assert w.live_state(loading) == "starting"
    data = w.write("starting", loading, force=True)
    assert data["phase"] == "Loading checkpoint shards 1/2" and data["step"] == 0
    compiling = Progress(step=0, max_steps=40, output_seen=True)
    assert w.live_state(compiling) == "compiling"


def test_an_ended_run_has_no_rate_and_no_eta(tmp_path: Path) -> None:
    w = writer(tmp_path)
    failure = {"class": "killed", "message": "killed by signal 9", "advice": "x", "retryable": False}
    w.write("failed:killed", RUNNING, force=True, failure=failure)
    status = json.loads(w.files.status.read_text())
    assert status["state"] == "failed:killed" and status["failure"]["class"] == "killed"
    assert status["eta_s"] is None and status["it_s"] is None and status["step"] == 15


def test_nonfinite_and_the_plot(tmp_path: Path) -> None:
    w = writer(tmp_path)
    w.attempts.begin(start_step=0, started_at=0.0)
    bad = Progress(
        step=20,
        max_steps=40,
        output_seen=True,
        progress_seen=True,
        nonfinite={"step": 20, "loss": 1.5, "grad_norm": float("nan")},
        points=[{"step": 10, "loss": 2.0}, {"step": 20, "loss": 1.5, "grad_norm": float("nan")}],
    )
    data = w.write("running", bad, force=True)
    assert data["nonfinite"]["step"] == 20
    assert data["loss_plot"] == str(w.files.plot) and w.files.plot.read_bytes()[:4] == b"\x89PNG"
