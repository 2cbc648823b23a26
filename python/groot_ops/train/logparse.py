"""Progress from the trainer's output: tqdm bars and HF Trainer log dicts, fed incrementally."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any

# "  5%|▌    | 50/1000 [00:10<03:10,  4.99it/s]" (or "2.01s/it" when slower than one step a second)
PROGRESS = re.compile(
    r"(?P<step>\d+)/(?P<total>\d+) \[(?P<elapsed>[\d:]+)<(?P<left>[\d:?]+),"
    r"\s*(?P<rate>[\d.?]+)(?P<unit>it/s|s/it)"
)
LOG_DICT = re.compile(r"\{'(?:loss|train_runtime|train_loss)'.*\}")
SAVING = re.compile(r"Saving model checkpoint to (?P<path>\S+)")
CHECKPOINT_STEP = re.compile(r"checkpoint-(\d+)")


def _seconds(clock: str) -> float | None:
    if "?" in clock:
        return None
    seconds = 0.0
    for part in clock.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


@dataclass
class Progress:
    step: int | None = None
    max_steps: int | None = None
    it_s: float | None = None
    eta_s: float | None = None
    loss: float | None = None
    learning_rate: float | None = None
    grad_norm: float | None = None
    epoch: float | None = None
    train_loss: float | None = None
    saving_checkpoint: str | None = None
    output_seen: bool = False
    progress_seen: bool = False
    history: list[dict[str, float]] = field(default_factory=list)

    def fields(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "max_steps": self.max_steps,
            "it_s": self.it_s,
            "eta_s": self.eta_s,
            "loss": self.loss,
            "learning_rate": self.learning_rate,
            "grad_norm": self.grad_norm,
            "epoch": self.epoch,
        }


class LogParser:
    """Feed raw output chunks (partial lines, tqdm's carriage returns) and read :attr:`progress`."""

    def __init__(self) -> None:
        self.progress = Progress()
        self._pending = ""

    def feed(self, text: str) -> None:
        data = self._pending + text
        parts = re.split(r"[\r\n]", data)
        self._pending = parts.pop()
        for line in parts:
            self.line(line)

    def flush(self) -> None:
        if self._pending:
            self.line(self._pending)
            self._pending = ""

    def new_attempt(self) -> None:
        """A relaunch prints the bar and the compile phase again; keep the history."""
        self.flush()
        self.progress.progress_seen = False
        self.progress.output_seen = False
        self.progress.saving_checkpoint = None

    def line(self, line: str) -> None:
        if not line.strip():
            return
        prog = self.progress
        prog.output_seen = True
        match = PROGRESS.search(line)
        if match:
            self._on_progress(match)
            # tqdm ends its bar with \r only, so the Trainer's log dict can follow on the same line.
            line = line[match.end() :]
        saving = SAVING.search(line)
        if saving:
            prog.saving_checkpoint = saving.group("path")
            return
        found = LOG_DICT.search(line)
        if found:
            self._on_log_dict(found.group(0))

    def _on_progress(self, match: re.Match[str]) -> None:
        prog = self.progress
        step, total = int(match.group("step")), int(match.group("total"))
        if prog.saving_checkpoint:
            saved = CHECKPOINT_STEP.search(prog.saving_checkpoint)
            if not saved or step > int(saved.group(1)) or step == total:
                prog.saving_checkpoint = None
        prog.step, prog.max_steps = step, total
        rate = match.group("rate")
        if "?" not in rate and float(rate) > 0:
            value = float(rate)
            prog.it_s = value if match.group("unit") == "it/s" else 1.0 / value
        left = _seconds(match.group("left"))
        if left is not None:
            prog.eta_s = left
        elif prog.it_s:
            prog.eta_s = (total - step) / prog.it_s
        if step > 0:
            prog.progress_seen = True

    def _on_log_dict(self, text: str) -> None:
        try:
            data = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return
        if not isinstance(data, dict):
            return
        prog = self.progress

        def num(key: str) -> float | None:
            value = data.get(key)
            return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

        if "train_loss" in data:
            prog.train_loss = num("train_loss")
            return
        prog.loss = num("loss")
        prog.learning_rate = num("learning_rate")
        prog.grad_norm = num("grad_norm")
        prog.epoch = num("epoch")
        step = int(data["step"]) if isinstance(data.get("step"), int) else prog.step
        if prog.loss is not None and step is not None:
            point = {"step": float(step), "loss": prog.loss}
            if prog.learning_rate is not None:
                point["learning_rate"] = prog.learning_rate
            # A resumed run logs the steps after its checkpoint again: the newest value wins.
            prog.history = [p for p in prog.history if p["step"] < step]
            prog.history.append(point)


def parse_text(text: str) -> Progress:
    parser = LogParser()
    parser.feed(text)
    parser.flush()
    return parser.progress
