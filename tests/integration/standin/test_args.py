"""The stand-in's launch_finetune.py command line against tyro's own parse of upstream's FinetuneConfig.

Every expectation here is a fixture recorded from the real n1.6.1 code (tests/fixtures/upstream/train/).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pytest

from tests.conformance.train_recipes import panel
from tests.standins.model_fixture import STANDIN_ROOT

if str(STANDIN_ROOT) not in sys.path:
    sys.path.insert(0, str(STANDIN_ROOT))

from gr00t.configs.finetune_config import EmbodimentTag, FinetuneConfig
from gr00t.experiment.args import parse_args

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "upstream" / "train"


def as_recorded(config: FinetuneConfig) -> dict:
    values = dataclasses.asdict(config)
    values["embodiment_tag"] = config.embodiment_tag.name
    return values


def recorded(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def test_fields_types_and_defaults_are_upstreams() -> None:
    fields = recorded("fields")
    ours = [
        {
            "name": f.name,
            "annotation": str(f.type),
            "required": f.default is dataclasses.MISSING,
            "default": None if f.default is dataclasses.MISSING else f.default,
        }
        for f in dataclasses.fields(FinetuneConfig)
    ]
    assert ours == fields["fields"]
    assert [m.name for m in EmbodimentTag] == fields["embodiment_tags"]


@pytest.mark.parametrize("path", sorted((FIXTURES / "parse").glob("*.json")), ids=lambda p: p.stem)
def test_every_recipe_argv_parses_as_tyro_parsed_it(path: Path) -> None:
    case = json.loads(path.read_text())
    assert as_recorded(parse_args(case["argv"])) == case["parsed"]


@pytest.mark.parametrize("name", sorted(recorded("parse-spellings")))
def test_spelling_rules_are_tyros(name: str) -> None:
    case = recorded("parse-spellings")[name]
    assert case["exit_code"] == 0
    assert as_recorded(parse_args(case["argv"])) == case["parsed"]


@pytest.mark.parametrize("name", sorted(recorded("parse-errors")))
def test_errors_are_tyros(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    case = recorded("parse-errors")[name]
    with pytest.raises(SystemExit) as exc:
        parse_args(case["argv"])
    assert exc.value.code == case["exit_code"] == 2
    assert panel(capsys.readouterr().err) == panel(case["output"])


def test_help_exits_0_like_tyro_and_names_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    # Recorded: tyro.cli(FinetuneConfig) with --help among other flags (help.txt); groot_env runs it.
    upstream = (FIXTURES / "help.txt").read_text()
    assert upstream.startswith("usage: launch_finetune.py [-h] [OPTIONS]")
    with pytest.raises(SystemExit) as exited:
        parse_args(["--base_model_path", "x", "--help"])
    assert exited.value.code == 0
    ours = capsys.readouterr().out
    assert ours.splitlines()[0] == upstream.splitlines()[0]
    for field in dataclasses.fields(FinetuneConfig):
        flag = "--" + field.name.replace("_", "-")
        assert flag in upstream and flag in ours, flag
