"""The stand-in trainer against real n1.6.1 runs recorded from upstream (tests/fixtures/upstream/train/run/).

Upstream ran on CPU with its model pipeline replaced by a toy one (tests/conformance/upstream_side/
train_run.py), so weight file names and the pipeline's own experiment_cfg files are left out of the
comparison; everything groot-ops reads is compared: the files of each checkpoint and of the output dir,
what is printed and at which level, the log dicts, the trainer state, and what a relaunch does.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from groot_ops.train.logparse import parse_text
from tests.integration.standin.conftest import base_flags

RUNS = Path(__file__).resolve().parents[2] / "fixtures" / "upstream" / "train" / "run"
WEIGHTS = re.compile(r"(^|/)model(-\d{5}-of-\d{5})?\.safetensors(\.index\.json)?$")
PIPELINE_FILES = re.compile(
    r"(^|/)experiment_cfg/(final_model_config|final_processor_config|dataset_statistics)\.json$"
)
STANDIN_KNOBS = {
    "GROOT_CONFORMANCE_NAN_FROM_STEP": "GROOT_STANDIN_NAN_FROM_STEP",
    "GROOT_CONFORMANCE_CRASH_AT_SAVE": "GROOT_STANDIN_CRASH_AT_SAVE",
}
CRASHES = {
    "optimizer": "GROOT_STANDIN_CRASH_DURING_SAVE",
    "processor_copy": "GROOT_STANDIN_CRASH_BEFORE_PROCESSOR_COPY",
}


def recorded(name: str) -> tuple[dict[str, Any], str]:
    return json.loads((RUNS / f"{name}.json").read_text()), (RUNS / f"{name}.log").read_text()


def comparable_tree(tree: list[str]) -> list[str]:
    return sorted(p for p in tree if not WEIGHTS.search(p.rstrip("/")) and not PIPELINE_FILES.search(p))


def tree(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() + ("/" if p.is_dir() else "") for p in root.rglob("*"))


def standin_env(knobs: dict[str, str]) -> dict[str, str]:
    env = {}
    for key, value in knobs.items():
        if key == "GROOT_CONFORMANCE_CRASH":
            env[CRASHES[value]] = "1"
        else:
            env[STANDIN_KNOBS[key]] = value
    return env


def flags_of(summary: dict[str, Any]) -> dict[str, str]:
    tail = summary["argv_tail"]
    return {tail[i].lstrip("-"): tail[i + 1] for i in range(0, len(tail), 2)}


def run_like_upstream(name: str, dataset: Path, out: Path, launch) -> tuple[dict[str, Any], str, int, str]:
    summary, log = recorded(name)
    flags = flags_of(summary)
    result = launch(base_flags(dataset, out, **flags), env=standin_env(summary["knobs"]), merged=True)
    text = result.stdout.replace(str(out), "<OUTPUT_DIR>")
    return summary, log, result.returncode, text


def log_dicts(text: str) -> list[dict[str, Any]]:
    from groot_ops.train.logparse import LOG_DICT, parse_log_dict

    return [d for d in (parse_log_dict(m.group(0)) for m in LOG_DICT.finditer(text)) if d is not None]


def messages(text: str) -> list[str]:
    """Upstream's own lines groot-ops may see: logging at its level, the callback's copies, the end."""
    keep = re.compile(
        r"( - (INFO|WARNING) - .*$)"
        r"|(Copying (experiment config directory|processor directory|wandb_config\.json) .*$)"
        r"|(Current global step: \d+$)",
        re.MULTILINE,
    )
    found = []
    for match in keep.finditer(text.replace("\r", "\n")):
        line = match.group(0).strip()
        if "Generating" in line or "Saved config" in line:
            continue  # the data stage's stats messages, and a line only the real config saver words alike
        found.append(re.sub(r"^.* - (INFO|WARNING) - ", r"\1 - ", line))
    return found


def test_a_run_prints_and_writes_what_upstream_does(dataset: Path, tmp_path: Path, launch) -> None:
    out = tmp_path / "out"
    summary, log, code, text = run_like_upstream("normal", dataset, out, launch)
    assert code == summary["exit_code"] == 0, text
    assert comparable_tree(tree(out)) == comparable_tree(summary["tree"])
    assert messages(text) == messages(log)
    assert "Saving model checkpoint" not in text and "Running training" not in text
    ours, theirs = log_dicts(text), log_dicts(log)
    assert [sorted(d) for d in ours] == [sorted(d) for d in theirs]  # no 'epoch'
    state = json.loads((out / "checkpoint-25" / "trainer_state.json").read_text())
    upstream_state = summary["trainer_states"]["checkpoint-25"]
    assert sorted(state) == sorted(upstream_state)
    assert [sorted(e) for e in state["log_history"]] == [sorted(e) for e in upstream_state["log_history"]]
    assert [e["step"] for e in state["log_history"]] == [e["step"] for e in upstream_state["log_history"]]
    # The product reads both the same way.
    mine, real = parse_text(text, 25), parse_text(log, 25)
    assert (mine.step, mine.max_steps, [p["step"] for p in mine.points]) == (
        real.step,
        real.max_steps,
        [p["step"] for p in real.points],
    )


def test_a_diverging_run_logs_like_upstream(dataset: Path, tmp_path: Path, launch) -> None:
    _summary, log, code, text = run_like_upstream("nan", dataset, tmp_path / "out", launch)
    assert code == 0, text

    def shape(dicts: list[dict[str, Any]]) -> list[tuple[bool, bool]]:
        # (grad_norm finite, loss exactly 0.0): HF's NaN filter logs 0.0 once a whole window was NaN.
        return [(math.isfinite(d["grad_norm"]), d["loss"] == 0.0) for d in dicts if "grad_norm" in d]

    assert shape(log_dicts(text)) == shape(log_dicts(log))
    mine, real = parse_text(text, 40), parse_text(log, 40)
    assert mine.nonfinite is not None and real.nonfinite is not None
    assert mine.nonfinite["step"] == real.nonfinite["step"] == 20


@pytest.mark.parametrize("case", ["crash_mid_save", "crash_processor_copy"])
def test_a_crash_during_a_save_then_the_relaunch_behave_like_upstream(
    case: str, dataset: Path, tmp_path: Path, launch
) -> None:
    out = tmp_path / "out"
    summary, _log, code, text = run_like_upstream(case, dataset, out, launch)
    assert code != 0 and summary["exit_code"] != 0
    assert comparable_tree(tree(out)) == comparable_tree(summary["tree"]), text
    again, again_log, code, text = run_like_upstream(f"{case}_relaunch", dataset, out, launch)
    assert (code == 0) == (again["exit_code"] == 0), text
    assert comparable_tree(tree(out)) == comparable_tree(again["tree"])
    if case == "crash_mid_save":
        # Gr00tTrainer.train reads the newest checkpoint's trainer_state.json: the relaunch fails on it.
        needle = (
            "FileNotFoundError: [Errno 2] No such file or directory: "
            "'<OUTPUT_DIR>/checkpoint-20/trainer_state.json'"
        )
        assert needle in again_log and needle in text
    else:
        # It resumes from the checkpoint that lacks the processor files; that one stays so for good.
        assert "Resuming from checkpoint <OUTPUT_DIR>/checkpoint-20" in text and "Resuming" in again_log
