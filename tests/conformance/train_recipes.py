"""The product's launch_finetune.py argv for every recipe, as the finetune role builds it.

Shared by the train recorder (which has upstream's tyro parse it) and the CI tests that hold the
product and the stand-in against what was recorded. Paths are the production layout's; they are only
strings to the parser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from groot_ops.train.command import LAUNCH_SCRIPT, torchrun_argv
from groot_ops.train.spec import load_spec

REPO = Path(__file__).resolve().parents[2]
INVENTORIES = ("production", "lab")
WORKSPACE = "/workspace"


def _nodes(inventory: str) -> dict[str, int]:
    # The lab builds its trainers group per recipe (lab_recipe_nodes); production has one workstation.
    if inventory != "lab":
        return {}
    lab = yaml.safe_load((REPO / "inventory" / "lab" / "group_vars" / "all" / "lab.yml").read_text())
    return dict(lab.get("lab_recipe_nodes") or {})


def recipes() -> dict[str, dict[str, Any]]:
    """``{name: {"inventory", "recipe", "nnodes"}}`` for every production and lab recipe."""
    found: dict[str, dict[str, Any]] = {}
    for inventory in INVENTORIES:
        path = REPO / "inventory" / inventory / "group_vars" / "all" / "recipes.yml"
        nodes = _nodes(inventory)
        for name, recipe in yaml.safe_load(path.read_text())["groot_recipes"].items():
            found[name] = {"inventory": inventory, "recipe": recipe, "nnodes": int(nodes.get(name, 1))}
    return found


def recipe_spec(name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """The spec the finetune role passes groot_train for node 0 (roles/finetune/defaults/main.yml)."""
    recipe = entry["recipe"]
    datasets = recipe["datasets"]
    dataset = datasets[0]["name"] if len(datasets) == 1 else f"{name}-merged"
    nnodes = entry["nnodes"]
    warm = _warm_start_dir(recipe.get("warm_start_from"))
    return {
        "recipe": name,
        "runs_root": f"{WORKSPACE}/runs",
        "isaac_groot_dir": f"{WORKSPACE}/Isaac-GR00T",
        "python": "/usr/bin/python3",
        "dataset_path": f"{WORKSPACE}/datasets/groot/{dataset}",
        "output_dir": f"{WORKSPACE}/checkpoints/{name}",
        "base_model_path": recipe["base_model"],
        "embodiment_tag": recipe.get("embodiment_tag", "UNITREE_G1"),
        "flags": {
            **dict(recipe.get("training") or {}),
            # finetune_modality_config_path: the recipe's file, copied under the workspace.
            **(
                {"modality_config_path": f"{WORKSPACE}/modality_configs/{name}/{recipe['modality_config']}"}
                if recipe.get("modality_config")
                else {}
            ),
        },
        "nnodes": nnodes,
        "node_rank": 0,
        "nproc_per_node": int(recipe.get("gpus_per_node", 1)),
        "rdzv_endpoint": "trainer-0:29400" if nnodes > 1 else "",
        **({"warm_start_from": warm} if warm else {}),
    }


def _warm_start_dir(value: Any) -> str | None:
    """Where the finetune role's groot_warm_start puts the recipe's warm-start model (a stand-in SHA)."""
    from groot_ops.hub.warm_start import model_dir, parse_source

    parsed = parse_source(value)
    if parsed is None:
        return None
    if "path" in parsed:
        return str(parsed["path"])
    return str(model_dir(f"{WORKSPACE}/models/warm-start", parsed["repo_id"], "0" * 40))


def launch_args(spec: dict[str, Any]) -> list[str]:
    """The flags after ``launch_finetune.py`` in the product's torchrun argv."""
    argv = torchrun_argv(load_spec(spec))
    at = next(i for i, arg in enumerate(argv) if arg.endswith(LAUNCH_SCRIPT))
    return argv[at + 1 :]


def recipe_argvs() -> dict[str, list[str]]:
    return {name: launch_args(recipe_spec(name, entry)) for name, entry in recipes().items()}


# Bad command lines whose tyro errors are recorded (the classifier and the stand-in are held to them).
REQUIRED = [
    "--base_model_path",
    "nvidia/GR00T-N1.6-3B",
    "--dataset_path",
    "/d",
    "--embodiment_tag",
    "UNITREE_G1",
]
BAD_ARGVS: dict[str, list[str]] = {
    "bool_with_value": [*REQUIRED, "--tune_llm", "false"],
    "lowercase_embodiment": [*REQUIRED[:4], "--embodiment_tag", "unitree_g1"],
    "float_for_int": [*REQUIRED, "--global_batch_size", "64.0"],
    "odd_color_jitter": [*REQUIRED, "--color_jitter_params", "brightness"],
    "color_jitter_not_a_number": [*REQUIRED, "--color_jitter_params", "hue", "lots"],
    "unknown_flag": [*REQUIRED, "--resume"],
    "missing_required": ["--base_model_path", "nvidia/GR00T-N1.6-3B"],
}
# Command lines tyro accepts whose parse shows a spelling rule (snake/kebab, --no-, None, bare dict).
SPELLING_ARGVS: dict[str, list[str]] = {
    "kebab_and_snake": [
        "--base-model-path", "m", "--dataset-path", "d", "--embodiment-tag", "UNITREE_G1", "--tune-llm",
        "--no-tune_projector", "--no_tune_diffusion_model", "--global-batch-size", "32", "--num_gpus", "2",
        "--learning-rate", "3e-05", "--save_total_limit", "1",
    ],
    "none_literals": [*REQUIRED, "--experiment_name", "None", "--random_rotation_angle", "None",
                      "--color_jitter_params", "None"],
    "bare_color_jitter": [*REQUIRED, "--color_jitter_params"],
    "color_jitter_pairs": [*REQUIRED, "--color-jitter-params", "brightness", "0.3", "hue", "0.08"],
    "negative_steps": [*REQUIRED, "--max_steps", "-5"],
    "last_bool_wins": [*REQUIRED, "--tune-llm", "--no-tune-llm"],
}  # fmt: skip


def panel(output: str) -> tuple[str, str]:
    """(title, message) of tyro's error panel: the text up to its first rule, unwrapped, box removed."""
    lines = [line for line in output.splitlines() if line.strip()]
    if not lines or not lines[0].startswith("╭─ "):
        raise AssertionError(f"not a tyro panel: {output[:200]!r}")
    title = lines[0].strip("╭─╮ ").strip()
    words: list[str] = []
    for line in lines[1:]:
        body = line.strip().strip("│").strip()
        if body and set(body) == {"─"}:
            break
        words += body.split()
    return title, " ".join(words)
