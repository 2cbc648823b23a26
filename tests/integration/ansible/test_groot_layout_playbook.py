"""playbooks/datasets.yml with a GR00T-layout dataset in a sub-folder of a Hub repo (recipe shape loco-manip).

The repo is seeded like GR00T-X-Embodiment-Sim (groot_ops.lab.hub.groot_repo_folder: GR00T-layout
sub-folders with made-up shipped stats, and a decoy folder); the stage downloads only the named
sub-folder, adopts it without conversion and recomputes its stats.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groot_ops.data.fingerprint import stats_are_fresh
from groot_ops.lab.hub import groot_repo_folder
from tests.hub_server.fixtures import HubHandle
from tests.integration.ansible.test_datasets_playbook import HOST, Stage

XEMB = "nvidia/PhysicalAI-Robotics-GR00T-X-Embodiment-Sim"
FOLDER = "unitree_g1.LMPnPAppleToPlateDC"


@pytest.fixture
def stage(tmp_path: Path, hub: HubHandle) -> Stage:
    st = Stage(tmp_path, hub)
    repo = groot_repo_folder(tmp_path / "xemb", {"groot_subfolders": [FOLDER], "episodes": 2})
    st.pins[XEMB] = st.seed(XEMB, repo)
    st.datasets = [
        {"name": "loco", "repo_id": XEMB, "revision": "main", "subfolder": FOLDER, "layout": "groot"},
    ]
    return st


def test_groot_layout_subfolder_is_adopted_with_recomputed_stats_and_rerun_changes_nothing(
    stage: Stage,
) -> None:
    planned = stage.run(check=True)
    assert planned.rc == 0, planned.describe()
    assert "would adopt the GR00T-layout dataset" in planned.stdout and stage.pins[XEMB] in planned.stdout
    assert not (stage.workspace / "datasets").exists(), "check mode wrote to disk"

    first = stage.run()
    assert first.rc == 0, first.describe()
    raw = stage.workspace / "datasets" / "raw" / "loco"
    assert sorted(p.name for p in raw.iterdir() if not p.name.startswith(".")) == [FOLDER], "fetched more"
    adopted = stage.groot / "loco"
    assert stats_are_fresh(adopted)
    shipped = json.loads((raw / FOLDER / "meta" / "stats.json").read_text())
    ours = json.loads((adopted / "meta" / "stats.json").read_text())
    assert ours["observation.state"]["mean"] != shipped["observation.state"]["mean"]
    record = json.loads((stage.workspace / "datasets" / "provenance" / "it-recipe.json").read_text())
    assert record["datasets"][0]["sha"] == stage.pins[XEMB] and record["fingerprint"]

    again = stage.run()
    assert again.rc == 0 and again.changed(HOST) == 0, again.describe()


def test_missing_subfolder_fails_before_anything_is_fetched(stage: Stage) -> None:
    stage.datasets[0]["subfolder"] = "unitree_g1.NoSuchTask"
    for check in (True, False):
        result = stage.run(check=check)
        assert result.rc != 0
        assert "sub-folder 'unitree_g1.NoSuchTask' does not exist" in result.stdout, result.describe()
        assert XEMB in result.stdout and stage.pins[XEMB] in result.stdout
    assert not (stage.groot / "loco").exists()
