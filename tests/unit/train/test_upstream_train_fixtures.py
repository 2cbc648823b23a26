"""The product held against what upstream's launch_finetune.py does with its argv (recorded fixtures).

``tests/fixtures/upstream/train/`` is re-recorded by ``tests/conformance/record.py --only train`` from the
real n1.6.1 code; ``tests/conformance/test_train.py`` checks it live when upstream is at hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groot_ops.train.flags import DERIVED_FLAGS, EMBODIMENT_TAGS, FLAGS
from groot_ops.train.spec import load_spec
from tests.conformance.train_recipes import launch_args, panel, recipe_spec, recipes

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "upstream" / "train"
RECIPES = recipes()


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def test_every_recipe_has_a_recorded_parse() -> None:
    recorded = {p.stem for p in (FIXTURES / "parse").glob("*.json")}
    assert recorded == set(RECIPES), "re-record: python -m tests.conformance.record --only train"


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_product_argv_is_the_one_upstream_parsed(name: str) -> None:
    recorded = fixture(f"parse/{name}")
    assert launch_args(recipe_spec(name, RECIPES[name])) == recorded["argv"], (
        "the product's argv changed since upstream parsed it: re-record the train fixtures"
    )


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_upstream_parses_the_recipe_as_the_recipe_means_it(name: str) -> None:
    spec = load_spec(recipe_spec(name, RECIPES[name]))
    parsed = fixture(f"parse/{name}")["parsed"]
    for key, value in spec.flags.items():
        assert parsed[key] == value, key
    for key, flag in FLAGS.items():
        if key not in spec.flags:
            assert parsed[key] == flag.default, f"{key}: upstream's default is not ours"
    assert parsed["num_gpus"] == spec.world_size
    assert parsed["embodiment_tag"] == spec.embodiment_tag
    # A warm start replaces the base model with the fetched checkpoint (groot_ops.train.command).
    assert (parsed["base_model_path"], parsed["dataset_path"], parsed["output_dir"]) == (
        spec.warm_start_from or spec.base_model_path,
        spec.dataset_path,
        spec.output_dir,
    )
    # launch_finetune.py copies the flags onto the training config it runs.
    config = fixture(f"parse/{name}")["config"]
    assert config["training"]["max_steps"] == spec.max_steps
    assert config["training"]["save_steps"] == spec.save_steps
    assert config["data"]["datasets"] == [
        {"dataset_paths": [spec.dataset_path], "embodiment_tag": spec.embodiment_tag.lower()}
    ]


def test_our_flag_table_is_upstreams_finetune_config() -> None:
    recorded = fixture("fields")
    fields = {f["name"]: f for f in recorded["fields"]}
    assert set(fields) == set(FLAGS) | set(DERIVED_FLAGS)
    for name, flag in FLAGS.items():
        assert fields[name]["annotation"] == flag.annotation, name
        assert fields[name]["default"] == flag.default and not fields[name]["required"], name
    for name, annotation in DERIVED_FLAGS.items():
        assert fields[name]["annotation"] == annotation, name
    assert tuple(recorded["embodiment_tags"]) == EMBODIMENT_TAGS


def test_the_values_tyro_rejects_are_refused_or_rendered_the_way_tyro_accepts() -> None:
    errors = fixture("parse-errors")
    # tyro: "Unrecognized arguments: false" -- the product renders booleans as --flag/--no-flag.
    assert errors["bool_with_value"]["exit_code"] == 2
    base = recipe_spec("lab-demo", RECIPES["lab-demo"])
    argv = launch_args({**base, "flags": {**base["flags"], "tune_llm": "false"}})
    assert "--no-tune-llm" in argv and "false" not in argv
    # tyro: invalid choice 'unitree_g1' -- refused before launch.
    assert "invalid choice: 'unitree_g1'" in panel(errors["lowercase_embodiment"]["output"])[1]
    with pytest.raises(Exception, match=r"launch_finetune\.py takes the member name UNITREE_G1"):
        load_spec({**base, "embodiment_tag": "unitree_g1"})
    # tyro parses a bare --color_jitter_params as {}: refused before launch.
    assert fixture("parse-spellings")["bare_color_jitter"]["parsed"]["color_jitter_params"] == {}
    with pytest.raises(Exception, match=r"color_jitter_params is empty"):
        load_spec({**base, "flags": {**base["flags"], "color_jitter_params": {}}})
    assert panel(errors["float_for_int"]["output"]) == (
        "Value error",
        "Error parsing --global-batch-size: invalid literal for int() with base 10: '64.0'",
    )
    with pytest.raises(Exception, match="global_batch_size must be an integer"):
        load_spec({**base, "flags": {**base["flags"], "global_batch_size": "64.0"}})
