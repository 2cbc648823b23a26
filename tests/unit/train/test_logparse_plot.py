"""Progress parsing of HF-Trainer-style output, including tqdm's carriage returns, and the loss plot."""

from __future__ import annotations

from pathlib import Path

from groot_ops.train.logparse import LogParser, parse_text
from groot_ops.train.plot import write_loss_plot

HF_OUTPUT = (
    "***** Running training *****\n"
    "  Num examples = 1,200\n"
    "  0%|          | 0/40 [00:00<?, ?it/s]\r"
    "  2%|▎         | 1/40 [00:03<02:00,  3.08s/it]\r"
    " 25%|██▌       | 10/40 [00:05<00:15,  2.00it/s]"
    "{'loss': 0.9123, 'grad_norm': 1.5, 'learning_rate': 9.5e-05, 'epoch': 0.25}\n"
    "Saving model checkpoint to /ws/checkpoints/r/checkpoint-10\n"
)


def test_progress_loss_and_rates() -> None:
    prog = parse_text(HF_OUTPUT)
    assert (prog.step, prog.max_steps) == (10, 40)
    assert prog.it_s == 2.0 and prog.eta_s == 15.0
    assert prog.loss == 0.9123 and prog.learning_rate == 9.5e-05
    assert prog.saving_checkpoint == "/ws/checkpoints/r/checkpoint-10"
    assert prog.history == [{"step": 10.0, "loss": 0.9123, "learning_rate": 9.5e-05}]


def test_seconds_per_iteration_is_inverted() -> None:
    prog = parse_text("  2%|▎         | 1/40 [00:03<02:00,  4.00s/it]\n")
    assert prog.it_s == 0.25 and prog.eta_s == 120.0


def test_partial_chunks_and_saving_cleared_by_next_step() -> None:
    parser = LogParser()
    for i in range(0, len(HF_OUTPUT), 7):
        parser.feed(HF_OUTPUT[i : i + 7])
    assert parser.progress.saving_checkpoint is not None
    parser.feed(" 28%|██▊       | 11/40 [00:06<00:14,  2.00it/s]\r")
    parser.feed("x\n")
    assert parser.progress.step == 11
    assert parser.progress.saving_checkpoint is None


def test_resumed_run_overwrites_repeated_steps_in_history() -> None:
    text = (
        " 50%| | 20/40 [00:05<00:05, 4.0it/s]{'loss': 0.5, 'learning_rate': 1e-4, 'epoch': 1.0}\n"
        " 75%| | 30/40 [00:05<00:05, 4.0it/s]{'loss': 0.4, 'learning_rate': 1e-4, 'epoch': 1.0}\n"
        " 50%| | 20/40 [00:01<00:05, 4.0it/s]{'loss': 0.45, 'learning_rate': 1e-4, 'epoch': 1.0}\n"
        "{'train_runtime': 12.0, 'train_samples_per_second': 3.3, 'train_loss': 0.42, 'epoch': 2.0}\n"
    )
    prog = parse_text(text)
    assert [(p["step"], p["loss"]) for p in prog.history] == [(20.0, 0.45)]
    assert prog.train_loss == 0.42


def test_garbage_does_not_break_parsing() -> None:
    prog = parse_text("{'loss': nan}\n{'loss': [1,\n random 1/2 text\n")
    assert prog.output_seen and prog.loss is None and prog.step is None


def test_loss_plot_is_a_png(tmp_path: Path) -> None:
    out = tmp_path / "loss.png"
    assert not write_loss_plot([], out, title="t")
    assert not out.exists()
    assert write_loss_plot([{"step": 1.0, "loss": 1.0}, {"step": 2.0, "loss": 0.5}], out, title="r loss")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
