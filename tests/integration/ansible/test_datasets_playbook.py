"""playbooks/datasets.yml end to end with ansible-playbook on localhost (a ``trainers`` host).

Synthetic raw datasets are seeded into the test Hub through the real huggingface_hub client; the
playbook downloads them with the real client, converts (v2.1 and v3.0), merges, computes stats and
validates, with the recipe's revisions pinned to the seeded commit SHAs.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from groot_ops.data.synth import synth_raw_dataset
from tests.ansible_helpers import AnsibleResult, run_playbook, write_local_inventory
from tests.hub_server.fixtures import HubHandle

TOWEL = "unitreerobotics/G1_Dex1_Fold_Towel"
# Seeded under the runbook's old name only: the recipe's current name must fall back to the alias.
WIPE_OLD = "unitreerobotics/G1_Wipe_Table"
WIPE_NEW = "unitreerobotics/G1_Dex1_Wipe_Table"
HOST = "trainer-1"


def _tree(path: Path) -> dict[str, int]:
    return {str(p.relative_to(path)): p.stat().st_mtime_ns for p in sorted(path.rglob("*")) if p.is_file()}


class Stage:
    """A workspace, an inventory and a recipe for one test; ``run`` calls ansible-playbook."""

    def __init__(self, tmp_path: Path, hub: HubHandle) -> None:
        self.tmp = tmp_path
        self.hub = hub
        self.workspace = tmp_path / "workspace"
        self.workspace.mkdir()
        self.inventory = write_local_inventory(tmp_path / "hosts.yml", {"trainers": [HOST]})
        self.raw = tmp_path / "raw-src"
        self.datasets: list[dict[str, Any]] = []
        self.pins: dict[str, str] = {}
        self.extra: dict[str, Any] = {}

    def seed(self, repo_id: str, folder: Path) -> str:
        return self.hub.seed(repo_id, folder)

    def write_vars(self) -> Path:
        path = self.tmp / "vars.yml"
        recipe = {
            "datasets": self.datasets,
            "base_model": "nvidia/GR00T-N1.6-3B",
            "embodiment_tag": "UNITREE_G1",
            "training": {"max_steps": 2},
            "hub": {"repo_id": "test/model", "private": True},
        }
        data = {
            "groot_recipes": {"it-recipe": recipe},
            "groot_recipe": "{{ groot_recipes[recipe] }}",
            "groot_workspace": str(self.workspace),
            "groot_hf_endpoint": self.hub.url,
            "groot_hf_token": self.hub.token,
            "groot_datasets_require_sha": True,
            "groot_datasets_revision_pins": self.pins,
        } | self.extra
        path.write_text(yaml.safe_dump(data))
        return path

    def run(self, *, check: bool = False, recipe: str = "it-recipe") -> AnsibleResult:
        return run_playbook(
            "playbooks/datasets.yml",
            inventory=self.inventory,
            extra_vars={"recipe": recipe},
            extra_vars_files=[self.write_vars()],
            check=check,
            diff=check,
            timeout=300,
        )

    @property
    def groot(self) -> Path:
        return self.workspace / "datasets" / "groot"


@pytest.fixture
def stage(tmp_path: Path, hub: HubHandle) -> Stage:
    st = Stage(tmp_path, hub)
    synth_raw_dataset(st.raw / "towel", version="v2.1", episodes=2, min_len=32, max_len=36, seed=1)
    synth_raw_dataset(
        st.raw / "wipe",
        version="v3.0",
        episodes=2,
        min_len=32,
        max_len=36,
        tasks=("Wipe the table.",),
        seed=2,
    )
    st.pins[TOWEL] = st.seed(TOWEL, st.raw / "towel")
    st.pins[WIPE_NEW] = st.seed(WIPE_OLD, st.raw / "wipe")
    st.datasets = [
        {"name": "fold_towel", "repo_id": TOWEL, "revision": "main", "ego_camera": "cam_left_high"},
        {
            "name": "wipe_table",
            "repo_id": WIPE_NEW,
            "aliases": [WIPE_OLD],
            "revision": "main",
            "ego_camera": "cam_left_high",
        },
    ]
    return st


def test_datasets_stage_check_run_idempotent_recipe_change_and_bad_revision(stage: Stage) -> None:
    planned = stage.run(check=True)
    assert planned.rc == 0, planned.describe()
    assert planned.changed(HOST) > 0
    assert not (stage.workspace / "datasets").exists(), "check mode wrote to disk"
    for name, sha in (("fold_towel", stage.pins[TOWEL]), ("wipe_table", stage.pins[WIPE_NEW])):
        assert f"{name}: " in planned.stdout and sha in planned.stdout and "would fetch" in planned.stdout
    assert "would convert" in planned.stdout and "would merge" in planned.stdout

    first = stage.run()
    assert first.rc == 0, first.describe()
    assert first.changed(HOST) > 0
    merged = stage.groot / "it-recipe-merged"
    episodes = [json.loads(x) for x in (merged / "meta/episodes.jsonl").read_text().splitlines()]
    assert len(episodes) == 4
    assert (merged / "meta/stats.json").is_file() and (merged / "meta/relative_stats.json").is_file()
    provenance = json.loads((stage.workspace / "datasets/provenance/it-recipe.json").read_text())
    assert provenance["training_dataset"] == str(merged)
    by_name = {d["name"]: d for d in provenance["datasets"]}
    assert by_name["fold_towel"]["sha"] == stage.pins[TOWEL]
    assert by_name["wipe_table"]["sha"] == stage.pins[WIPE_NEW]
    assert by_name["wipe_table"]["repo_id"] == WIPE_OLD  # resolved through the alias
    assert stage.hub.token not in first.output

    second = stage.run()
    assert second.rc == 0, second.describe()
    assert second.changed(HOST) == 0, second.describe()
    assert stage.run(check=True).changed(HOST) == 0

    # Another ego camera for one dataset redoes that dataset's steps and the merge, not the other's.
    wipe_before = _tree(stage.groot / "wipe_table")
    towel_before = _tree(stage.groot / "fold_towel")
    stage.datasets[0]["ego_camera"] = "cam_right_high"
    changed = stage.run()
    assert changed.rc == 0, changed.describe()
    assert _tree(stage.groot / "wipe_table") == wipe_before
    assert _tree(stage.groot / "fold_towel") != towel_before

    # A bad new revision fails with a message naming the broken file and leaves every output intact.
    outputs_before = {
        name: _tree(stage.groot / name) for name in ("fold_towel", "wipe_table", "it-recipe-merged")
    }
    broken = stage.tmp / "broken"
    shutil.copytree(stage.raw / "towel", broken)
    bad_file = sorted((broken / "data").rglob("*.parquet"))[-1]
    bad_file.write_bytes(b"this is not parquet")
    stage.pins[TOWEL] = stage.seed(TOWEL, broken)
    failed = stage.run()
    assert failed.rc != 0 and failed.failed(HOST) == 1
    assert bad_file.name in failed.stdout and "fold_towel" in failed.stdout, failed.describe()
    assert {name: _tree(stage.groot / name) for name in outputs_before} == outputs_before


def test_unpinned_revision_is_refused_when_shas_are_required(stage: Stage) -> None:
    del stage.pins[TOWEL]
    result = stage.run()
    assert result.rc != 0
    assert "not 40-hex commit SHAs" in result.stdout and f"{TOWEL}@main" in result.stdout
    assert not (stage.groot / "fold_towel").exists()


def test_unknown_recipe_fails_at_once_listing_known_ones(stage: Stage) -> None:
    result = stage.run(recipe="no-such-recipe")
    assert result.rc != 0
    assert "Unknown recipe no-such-recipe" in result.stdout and "Known recipes: it-recipe" in result.stdout
    assert HOST not in result.recap


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _assert_download_failure(
    result: AnsibleResult, stage: Stage, repo: str, needles: tuple[str, ...]
) -> None:
    assert result.rc != 0 and result.failed(HOST) == 1, result.describe()
    # The failing task's own message names the dataset (not only the progress lines before it).
    assert re.search(r"msg: ['\"]?Download failed for ", result.stdout), result.describe()
    assert "Download failed for" in result.stdout and repo in result.stdout, result.describe()
    for needle in needles:
        assert needle in result.stdout, result.describe()
    # The failure is reported by name, not tripped over later by a task reading a result without repo_id.
    assert "has no attribute" not in result.output, result.describe()
    assert stage.hub.token not in result.output
    assert not (stage.groot / "it-recipe-merged").exists()


def test_unknown_repo_fails_naming_the_repo_and_the_hub_error(stage: Stage) -> None:
    missing = "unitreerobotics/G1_No_Such_Dataset"
    stage.datasets.append(
        {"name": "missing", "repo_id": missing, "revision": "main", "ego_camera": "cam_left_high"}
    )
    stage.pins[missing] = "b" * 40
    result = stage.run()
    _assert_download_failure(result, stage, missing, ("missing (", "repo not found"))


def test_unreachable_hub_fails_naming_the_repo_and_the_connection_error(stage: Stage) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    stage.extra = {
        "groot_hf_endpoint": endpoint,
        "datasets_unreachable_budget_s": 2,
        "datasets_progress_poll_s": 1,
    }
    result = stage.run()
    _assert_download_failure(
        result, stage, TOWEL, ("fold_towel (", "Connection refused", f"Hub {endpoint} is unreachable")
    )
    # A line per retry while it waited, printed under the poll (callback groot_progress).
    assert f"{HOST} | Hub {endpoint}: revision lookup of {TOWEL} failed (unreachable" in result.stdout, (
        result.describe()
    )
