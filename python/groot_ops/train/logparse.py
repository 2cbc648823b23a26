"""Liveness, rate and ETA from the trainer's output, fed incrementally.

What n1.6.1 prints (recorded in ``tests/fixtures/upstream/train/run/``): several tqdm bars, of which only
HF Trainer's has no description and a total of ``max_steps`` (``Loading checkpoint shards`` of the base
model, ``Initializing datasets``, ``Loading trajectories for key ...`` of the stats come first and are
*phases*, not progress); log dicts ``{'loss': 0.03, 'grad_norm': 0.41, 'learning_rate': 9.9e-05}`` every
10 steps (``epoch`` hidden by ``Gr00tTrainer.log``). There is no "Saving model checkpoint" line
(transformers logs at WARNING): saves are seen on the filesystem. A diverging run keeps printing: HF's
``logging_nan_inf_filter`` keeps the logged *loss* finite (0.0 once every step of a window is NaN), so a
non-finite ``grad_norm`` is the signal as much as a non-finite loss. The ground truth of the loss curve
is ``trainer_state.json`` (:mod:`groot_ops.train.history`); the points here only cover what no
checkpoint holds yet.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass, field
from typing import Any

# "Loading checkpoint shards:  50%|█████     | 1/2 [00:00<00:00, 91.97it/s]" or the training bar
# " 40%|████      | 10/25 [00:12<00:18,  1.20it/s]" (or "2.01s/it" when slower than a step a second).
BAR = re.compile(
    r"(?:(?P<desc>[^\r\n|\]]*?):\s*)?(?P<pct>\d{1,3})%\|[^|\r\n]*\|\s*(?P<step>\d+)/(?P<total>\d+) "
    r"\[(?P<elapsed>[\d:]+)<(?P<left>[\d:?]+),\s*(?P<rate>[\d.?]+)(?P<unit>it/s|s/it)\]"
)
# Gr00tTrainer.get_train_dataloader prints this on every rank before the bar; on a resume it is the
# checkpoint's step (the bar itself starts at 0 and jumps).
GLOBAL_STEP = re.compile(r"Current global step: (?P<step>\d+)")
LOG_DICT = re.compile(r"\{'(?:loss|grad_norm|learning_rate|train_runtime|train_loss)'[^{}]*\}")
NONFINITE_NAMES = {"nan": math.nan, "inf": math.inf}
# gr00t/configs/training/training_config.py TrainingConfig.logging_steps (not a launch_finetune.py flag).
LOGGING_STEPS = 10


def _seconds(clock: str) -> float | None:
    if "?" in clock:
        return None
    seconds = 0.0
    for part in clock.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def _literal(node: ast.AST) -> Any:
    """A Python literal as str(dict) prints it, ``nan``/``inf`` included (ast.literal_eval refuses them)."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in NONFINITE_NAMES:
        return NONFINITE_NAMES[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _literal(node.operand)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    raise ValueError(f"not a literal: {ast.dump(node)}")


def parse_log_dict(text: str) -> dict[str, Any] | None:
    """``{'loss': nan, 'grad_norm': inf, ...}`` -> a dict, or None when the text is not one."""
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(tree, ast.Dict):
        return None
    result: dict[str, Any] = {}
    for key, value in zip(tree.keys, tree.values, strict=True):
        if not isinstance(key, ast.Constant) or not isinstance(key.value, str):
            return None
        try:
            result[key.value] = _literal(value)
        except ValueError:
            return None
    return result


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def nonfinite_keys(entry: dict[str, Any]) -> list[str]:
    """The training metrics of a log entry that are NaN or infinite."""
    return [k for k in ("loss", "grad_norm") if is_number(entry.get(k)) and not math.isfinite(entry[k])]


@dataclass
class Progress:
    step: int | None = None
    max_steps: int | None = None
    it_s: float | None = None
    eta_s: float | None = None
    loss: float | None = None
    learning_rate: float | None = None
    grad_norm: float | None = None
    train_loss: float | None = None
    # The bar or phase that is on screen before training progresses (e.g. "Loading checkpoint shards 1/2").
    phase: str | None = None
    output_seen: bool = False
    # The training bar advanced in this attempt (a step was done, not only the bar drawn at its start).
    progress_seen: bool = False
    # The first log entry with a NaN/inf loss or grad_norm: {"step", "loss", "grad_norm"}.
    nonfinite: dict[str, Any] | None = None
    # This attempt's log entries {"step", "loss", "grad_norm", "learning_rate"}: no checkpoint has them yet.
    points: list[dict[str, Any]] = field(default_factory=list)

    def fields(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "max_steps": self.max_steps,
            "it_s": self.it_s,
            "eta_s": self.eta_s,
            "loss": self.loss,
            "learning_rate": self.learning_rate,
            "grad_norm": self.grad_norm,
            "phase": self.phase,
        }


class LogParser:
    """Feed raw output chunks (partial lines, tqdm's carriage returns) and read :attr:`progress`.

    ``max_steps`` is the run's: a bar counts as training progress only when it has no description and
    that total (with ``max_steps`` None, any bar without a description does).
    """

    def __init__(self, max_steps: int | None = None) -> None:
        self.max_steps = max_steps
        self.progress = Progress(max_steps=max_steps)
        self._pending = ""
        self._start_step: int | None = None
        self._resume_step = 0
        self._last_logged: int | None = None

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
        """A relaunch loads the model and prints the bars again: a fresh attempt's view."""
        self.flush()
        self.progress = Progress(max_steps=self.max_steps, step=self.progress.step)
        self._start_step = None
        self._resume_step = 0
        self._last_logged = None

    def line(self, line: str) -> None:
        if not line.strip():
            return
        self.progress.output_seen = True
        rest = line
        started = GLOBAL_STEP.search(line)
        if started:
            self._start_step = self._resume_step = int(started.group("step"))
            self.progress.step = self._start_step
        bars = list(BAR.finditer(line))
        for match in bars:
            self._on_bar(match)
        if bars:
            # tqdm redraws with \r only, so a log dict or a log line can follow on the same line.
            rest = line[bars[-1].end() :]
        for found in LOG_DICT.finditer(rest):
            data = parse_log_dict(found.group(0))
            if data is not None:
                self._on_log_dict(data)

    def _is_training_bar(self, desc: str, total: int) -> bool:
        return not desc and (self.max_steps is None or total == self.max_steps)

    def _on_bar(self, match: re.Match[str]) -> None:
        prog = self.progress
        desc = (match.group("desc") or "").strip()
        step, total = int(match.group("step")), int(match.group("total"))
        if not self._is_training_bar(desc, total):
            prog.phase = f"{desc or 'progress'} {step}/{total}"
            return
        prog.phase = None
        if self._start_step is None:
            self._start_step = step
        if step < self._start_step:
            return  # HF's bar starts at 0 on a resume before its first update jumps to the step
        prog.step, prog.max_steps = step, total
        if step > self._start_step:
            prog.progress_seen = True
        rate = match.group("rate")
        if prog.progress_seen and "?" not in rate and float(rate) > 0:
            value = float(rate)
            prog.it_s = value if match.group("unit") == "it/s" else 1.0 / value
        left = _seconds(match.group("left"))
        if left is not None and prog.progress_seen:
            prog.eta_s = left
        elif prog.it_s:
            prog.eta_s = (total - step) / prog.it_s

    def _log_step(self) -> int | None:
        """The step of a log dict: HF logs at multiples of logging_steps and tqdm may show an older step (its
        redraws are throttled), so: the next multiple after the last one logged, at least the bar's."""
        bar = self.progress.step
        if bar is None:
            return None
        previous = self._last_logged if self._last_logged is not None else self._resume_step
        step = max(previous + LOGGING_STEPS, -(-bar // LOGGING_STEPS) * LOGGING_STEPS)
        return min(step, self.max_steps) if self.max_steps else step

    def _on_log_dict(self, data: dict[str, Any]) -> None:
        prog = self.progress
        if "train_loss" in data or "train_runtime" in data:
            value = data.get("train_loss")
            prog.train_loss = float(value) if is_number(value) else None
            return
        if "loss" not in data:
            return  # e.g. train_accuracy
        step = int(data["step"]) if is_number(data.get("step")) else self._log_step()
        self._last_logged = step
        entry: dict[str, Any] = {"step": step}
        for key in ("loss", "grad_norm", "learning_rate"):
            if is_number(data.get(key)):
                entry[key] = float(data[key])
        bad = nonfinite_keys(entry)
        if bad and prog.nonfinite is None:
            prog.nonfinite = {"step": step, **{k: entry.get(k) for k in ("loss", "grad_norm")}}
        if "loss" in entry and math.isfinite(entry["loss"]) and not bad:
            prog.loss = entry["loss"]
        elif "loss" in entry:
            prog.loss = entry["loss"] if not math.isfinite(entry["loss"]) else prog.loss
        prog.learning_rate = entry.get("learning_rate", prog.learning_rate)
        prog.grad_norm = entry.get("grad_norm", prog.grad_norm)
        if step is not None:
            # A resumed attempt logs the steps after its checkpoint again: the newest value wins.
            prog.points = [p for p in prog.points if p["step"] is None or p["step"] < step]
            prog.points.append(entry)


def parse_text(text: str, max_steps: int | None = None) -> Progress:
    parser = LogParser(max_steps)
    parser.feed(text)
    parser.flush()
    return parser.progress
