"""Live: upstream's launch_finetune.py parses every recipe's argv as the fixtures say, and its trainer
still prints and writes what the fixtures recorded (tests/fixtures/upstream/train/)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from tests.conformance.recorders import train as recorder
from tests.conformance.train_recipes import panel, recipe_argvs
from tests.conformance.upstream import Upstream

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "upstream" / "train"


@pytest.fixture(scope="module")
def parsed(upstream: Upstream) -> dict:
    return recorder.parse_all(upstream)


def test_fields_are_the_recorded_ones(parsed: dict) -> None:
    recorded = json.loads((FIXTURES / "fields.json").read_text())
    assert parsed["fields"] == recorded["fields"] and parsed["embodiment_tags"] == recorded["embodiment_tags"]


@pytest.mark.parametrize("name", sorted(recipe_argvs()))
def test_tyro_parses_every_recipe_argv_as_recorded(parsed: dict, name: str) -> None:
    live = parsed["cases"][f"recipe:{name}"]
    recorded = json.loads((FIXTURES / "parse" / f"{name}.json").read_text())
    assert live["exit_code"] == 0, live["output"]
    assert recorded["argv"] == recipe_argvs()[name], "the product's argv changed: re-record"
    assert live["parsed"] == recorded["parsed"] and live["config"] == recorded["config"]


def test_spellings_and_errors_are_as_recorded(parsed: dict) -> None:
    spellings = json.loads((FIXTURES / "parse-spellings.json").read_text())
    errors = json.loads((FIXTURES / "parse-errors.json").read_text())
    for name, case in spellings.items():
        assert parsed["cases"][name]["parsed"] == case["parsed"], name
    for name, case in errors.items():
        live = parsed["cases"][name]
        assert live["exit_code"] == case["exit_code"] == 2, name
        assert panel(live["output"]) == panel(case["output"]), name


def test_a_real_run_writes_the_recorded_layout(upstream: Upstream) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        flags, knobs = recorder.RUNS["normal"][0]
        code, text = recorder._train(upstream, out, flags, knobs)
        recorded = json.loads((FIXTURES / "run" / "normal.json").read_text())
        assert code == recorded["exit_code"] == 0, text[-3000:]
        assert recorder._tree(out) == recorded["tree"]
        assert "Saving model checkpoint" not in text and "Training completed!" in text
