"""Which raw datasets the lab Hub must hold: every dataset the lab recipes name, in its real format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from groot_ops.errors import ConfigError

# The lab's own defaults when the recipes file has not landed yet: one v2.1 and one v3.0 dataset
# under their production names (unitree-datasets.md).
DEFAULT_DATASETS: tuple[str, ...] = (
    "unitreerobotics/G1_Dex1_Fold_Towel",
    "unitreerobotics/G1_Dex1_Wipe_Table",
)


def _load(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top")
    return data


def recipe_dataset_repos(recipes_file: Path) -> list[str]:
    """Repo ids of the datasets of every recipe in ``recipes_file`` (order kept, no duplicates)."""
    recipes = _load(recipes_file).get("groot_recipes") or {}
    repos: list[str] = []
    for name, recipe in recipes.items():
        for entry in (recipe or {}).get("datasets") or []:
            repo = entry.get("repo_id") or entry.get("repo") if isinstance(entry, dict) else entry
            if not isinstance(repo, str) or "/" not in repo:
                raise ConfigError(f"{recipes_file}: recipe {name}: dataset without a repo id: {entry!r}")
            if repo not in repos:
                repos.append(repo)
    return repos


def recipe_groot_subfolders(recipes_file: Path) -> dict[str, list[str]]:
    """Repo id -> the sub-folders that lab recipes read as GR00T-layout datasets (``layout: groot``)."""
    recipes = _load(recipes_file).get("groot_recipes") or {}
    found: dict[str, list[str]] = {}
    for recipe in recipes.values():
        for entry in (recipe or {}).get("datasets") or []:
            if not isinstance(entry, dict) or entry.get("layout") != "groot":
                continue
            folders = found.setdefault(str(entry.get("repo_id")), [])
            folder = str(entry.get("subfolder") or "")
            if folder not in folders:
                folders.append(folder)
    return found


def seed_plan(inventory: Path) -> list[dict[str, Any]]:
    """Seed specs ``{repo_id, version, episodes, tasks, seed}`` from the lab inventory.

    A repo read as GR00T-layout sub-folders has ``groot_subfolders`` too (the folders to hold the data).
    """
    group_vars = inventory / "group_vars" / "all"
    lab = _load(group_vars / "lab.yml")
    formats: dict[str, str] = lab.get("lab_dataset_formats") or {}
    tasks: dict[str, str] = lab.get("lab_dataset_tasks") or {}
    episodes = int(lab.get("lab_dataset_episodes", 3))
    repos = recipe_dataset_repos(group_vars / "recipes.yml") or list(DEFAULT_DATASETS)
    groot = recipe_groot_subfolders(group_vars / "recipes.yml")
    plan = []
    for index, repo in enumerate(repos):
        task = tasks.get(repo) or repo.rsplit("/", 1)[-1].replace("G1_Dex1_", "").replace("_", " ") + "."
        plan.append(
            {
                "repo_id": repo,
                "version": formats.get(repo, "v2.1"),
                "episodes": episodes,
                "tasks": [task],
                "seed": index,
                **({"groot_subfolders": groot[repo]} if repo in groot else {}),
            }
        )
    return plan
