"""Progress parsing of real n1.6.1 output (recorded from upstream), other bars, NaN, and the loss plot."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pytest
from tqdm import tqdm

from groot_ops.train.history import run_history
from groot_ops.train.logparse import LogParser, parse_log_dict, parse_text
from groot_ops.train.plot import write_loss_plot

RUNS = Path(__file__).resolve().parents[2] / "fixtures" / "upstream" / "train" / "run"


def upstream_log(name: str) -> str:
    return (RUNS / f"{name}.log").read_text()


def tqdm_output(total: int, desc: str | None = None, upto: int | None = None) -> str:
    """What the real tqdm prints to a pipe for a bar (the same library transformers and gr00t use)."""
    stream = io.StringIO()
    bar = tqdm(total=total, desc=desc, file=stream, mininterval=0, miniters=1, ncols=None)
    for _ in range(total if upto is None else upto):
        bar.update(1)
    if upto is None:
        bar.close()
    return stream.getvalue()


def test_upstream_run_output_gives_step_rate_and_the_logged_losses() -> None:
    prog = parse_text(upstream_log("normal"), max_steps=25)
    assert (prog.step, prog.max_steps) == (25, 25) and prog.progress_seen
    assert prog.it_s is not None and prog.it_s > 0
    # The log dicts (no epoch: Gr00tTrainer.log hides it) at steps 10 and 20, as trainer_state.json has them.
    state = json.loads((RUNS / "normal.json").read_text())["trainer_states"]["checkpoint-25"]
    assert [(p["step"], p["loss"]) for p in prog.points] == [
        (e["step"], e["loss"]) for e in state["log_history"]
    ]
    assert prog.train_loss is not None and prog.nonfinite is None


def test_only_the_training_bar_is_progress() -> None:
    """Before training: the base model's shards, the dataset bar, the stats bars (with small totals)."""
    parser = LogParser(max_steps=2)
    parser.feed(tqdm_output(2, "Loading checkpoint shards", upto=2))
    parser.flush()  # tqdm's last redraw ends with the next \r
    assert parser.progress.step is None and parser.progress.phase == "Loading checkpoint shards 2/2"
    parser.feed("\n" + tqdm_output(1, "Initializing datasets", upto=0))
    parser.feed(tqdm_output(3, "Loading trajectories for key left_arm", upto=3))
    parser.flush()
    assert (
        parser.progress.step is None and parser.progress.phase == "Loading trajectories for key left_arm 3/3"
    )
    assert not parser.progress.progress_seen
    parser.feed("\nCurrent global step: 0\n" + tqdm_output(2, upto=1))
    parser.flush()
    assert (parser.progress.step, parser.progress.phase) == (1, None) and parser.progress.progress_seen


def test_a_description_less_bar_with_another_total_is_not_progress() -> None:
    prog = parse_text(tqdm_output(7, upto=3), max_steps=40)
    assert prog.step is None and prog.phase == "progress 3/7"


def test_resume_bar_starts_at_zero_then_jumps() -> None:
    text = upstream_log("crash_processor_copy_relaunch")
    assert "Resuming from checkpoint <OUTPUT_DIR>/checkpoint-20" in text
    prog = parse_text(text, max_steps=30)
    assert prog.step == 30
    # The one log dict of the resumed attempt is step 30's (its bar showed 0/30 before it).
    assert [p["step"] for p in prog.points] == [30]


def test_a_diverging_run_is_seen_from_grad_norm_although_hf_keeps_the_logged_loss_finite() -> None:
    prog = parse_text(upstream_log("nan"), max_steps=40)
    losses = [(p["step"], p["loss"]) for p in prog.points]
    # HF's logging_nan_inf_filter: NaN steps add the window's average; an all-NaN window logs 0.0.
    assert losses[2:] == [(30, 0.0), (40, 0.0)]
    assert (
        prog.nonfinite is not None
        and prog.nonfinite["step"] == 20
        and math.isnan(prog.nonfinite["grad_norm"])
    )
    assert prog.loss == losses[0][1]  # the last loss that means something


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{'loss': nan, 'grad_norm': inf, 'learning_rate': 1e-05}", {"loss": "nan", "grad_norm": "inf"}),
        ("{'loss': -inf}", {"loss": "-inf"}),
        ("{'loss': 0.5, 'grad_norm': 1.2}", {"loss": 0.5, "grad_norm": 1.2}),
        ("{'loss': [1, 2]}", None),
        ("{'loss': __import__('os')}", None),
        ("{'loss': 1", None),
    ],
)
def test_log_dicts_with_nan_and_inf(text: str, expected: dict | None) -> None:
    parsed = parse_log_dict(text)
    if expected is None:
        assert parsed is None
        return
    assert parsed is not None
    for key, value in expected.items():
        assert str(parsed[key]) == value if isinstance(value, str) else parsed[key] == value


def test_nan_loss_is_recorded_as_nonfinite() -> None:
    text = (
        " 25%|██▌       | 10/40 [00:05<00:15,  2.00it/s]"
        "{'loss': nan, 'grad_norm': nan, 'learning_rate': 9e-05}\n"
    )
    prog = parse_text(text, max_steps=40)
    assert prog.nonfinite is not None and prog.nonfinite["step"] == 10 and math.isnan(prog.nonfinite["loss"])


def test_seconds_per_iteration_is_inverted() -> None:
    prog = parse_text(
        "  0%|          | 0/40 [00:00<?, ?it/s]\r  2%|▎         | 1/40 [00:03<02:00,  4.00s/it]\n",
        max_steps=40,
    )
    assert prog.it_s == 0.25 and prog.eta_s == 120.0


def test_partial_chunks() -> None:
    text = upstream_log("normal")
    parser = LogParser(max_steps=25)
    for i in range(0, len(text), 7):
        parser.feed(text[i : i + 7])
    parser.flush()
    assert parser.progress.step == 25 and len(parser.progress.points) == 2


def test_garbage_does_not_break_parsing() -> None:
    prog = parse_text("{'loss': [1,\n random 1/2 text\n", max_steps=10)
    assert prog.output_seen and prog.loss is None and prog.step is None


def test_loss_plot_covers_the_whole_run_and_marks_resumes_failures_and_nan(tmp_path: Path) -> None:
    from tests.checkpoint_factory import write_checkpoint

    out = tmp_path / "out"
    ckpt = write_checkpoint(out, 30)
    history = [{"step": s, "loss": 1.0 / s, "grad_norm": 0.5, "learning_rate": 1e-4} for s in (10, 20, 30)]
    (ckpt / "trainer_state.json").write_text(json.dumps({"global_step": 30, "log_history": history}))
    attempts = [
        {"index": 0, "start_step": 0, "last_step": 25, "points": history[:2],
         "failure": {"class": "killed", "message": "SIGKILL"}},
        {"index": 1, "start_step": 20, "points": [{"step": 40, "loss": 0.0, "grad_norm": math.nan}]},
    ]  # fmt: skip
    drawn = run_history(out, attempts)
    assert [p["step"] for p in drawn["points"]] == [10, 20, 30]  # from trainer_state.json, both attempts
    assert drawn["resumes"] == [{"step": 20, "attempt": 1}]
    assert drawn["failures"][0]["class"] == "killed" and drawn["failures"][0]["step"] == 25
    assert drawn["nonfinite"]["step"] == 40
    png = tmp_path / "loss.png"
    assert write_loss_plot(drawn, png, title="r loss")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not write_loss_plot(run_history(tmp_path / "none", []), tmp_path / "none.png", title="t")
    assert not (tmp_path / "none.png").exists()


def test_supervisor_notes_never_glue_to_a_bar(tmp_path: Path) -> None:
    from groot_ops.train.pump import OutputPump

    pump = OutputPump(tmp_path / "train.log", LogParser(max_steps=40))
    pump.record(b" 52%|#####     | 21/40 [00:04<00:04,  4.71it/s]")
    pump.note("stopping the trainer")
    pump.note("again")
    pump.close()
    lines = (tmp_path / "train.log").read_text().splitlines()
    assert lines[0].endswith("4.71it/s]") and lines[1].endswith("stopping the trainer")
    assert lines[2].endswith("] again") and len(lines) == 3
