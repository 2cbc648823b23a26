"""The warm-start decision: a source trained on other data is refused unless the recipe accepts it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groot_ops.errors import InputError
from groot_ops.hub.modelcard import render_model_card
from groot_ops.hub.warm_start import card_metadata, parse_source, recipe_training_data, warm_start_verdict

SHA_A = "a" * 40
SHA_B = "b" * 40
TOWEL = {
    "name": "fold_towel",
    "repo_id": "unitreerobotics/G1_Dex1_Fold_Towel",
    "revision": "main",
    "sha": SHA_A,
}


def _card(datasets: list[dict], fingerprint: str | None = "f" * 64) -> str:
    return render_model_card(
        {
            "recipe": "fold-towel",
            "datasets": datasets,
            "isaac_groot": {"repo": "NVIDIA/Isaac-GR00T", "commit": "c" * 40},
            "groot_ops_commit": "d" * 40,
            "base_model": "nvidia/GR00T-N1.6-3B",
            "embodiment_tag": "UNITREE_G1",
            "training_flags": {"max_steps": 6000},
            "steps": 6000,
            "files": [{"path": "model.safetensors", "size": 10}],
            "data_fingerprint": fingerprint,
        }
    )


def test_our_card_is_read_back_with_its_datasets_and_fingerprint() -> None:
    meta = card_metadata(_card([TOWEL]))
    assert meta is not None and meta["datasets"] == [TOWEL] and meta["data_fingerprint"] == "f" * 64
    assert card_metadata("# a card without front matter\n") is None
    assert card_metadata("---\nlibrary_name: gr00t\n---\n# hand-made\n") is None


def test_same_data_by_sha_or_fingerprint_goes_ahead() -> None:
    meta = card_metadata(_card([TOWEL]))
    same_sha = warm_start_verdict(meta, {"datasets": [TOWEL], "fingerprint": None}, source="m")
    assert same_sha["decision"] == "same"
    # Same converted data (fingerprint) though recorded under a renamed repo: still the same data.
    renamed = {**TOWEL, "repo_id": "unitreerobotics/G1_Fold_Towel"}
    by_fp = warm_start_verdict(meta, {"datasets": [renamed], "fingerprint": "f" * 64}, source="m")
    assert by_fp["decision"] == "same"


def test_other_data_is_refused_naming_both_and_the_override() -> None:
    meta = card_metadata(_card([TOWEL]))
    newer = {**TOWEL, "sha": SHA_B}
    verdict = warm_start_verdict(
        meta, {"datasets": [newer], "fingerprint": "e" * 64}, source="owner/model@abc"
    )
    assert verdict["decision"] == "refuse"
    assert "owner/model@abc" in verdict["message"] and SHA_A[:12] in verdict["message"]
    assert SHA_B[:12] in verdict["message"] and "accept_other_data: true" in verdict["message"]
    assert "override=False" in verdict["message"]
    accepted = warm_start_verdict(
        meta, {"datasets": [newer], "fingerprint": None}, source="m", accept_other_data=True
    )
    assert accepted["decision"] == "accepted"


def test_before_the_dataset_stage_repos_are_compared() -> None:
    meta = card_metadata(_card([TOWEL]))
    ok = warm_start_verdict(meta, recipe_training_data(None, [{"repo_id": TOWEL["repo_id"]}]), source="m")
    assert ok["decision"] == "same"
    other = warm_start_verdict(meta, recipe_training_data(None, [{"repo_id": "nvidia/Other"}]), source="m")
    assert other["decision"] == "refuse"


def test_no_card_warns() -> None:
    verdict = warm_start_verdict(None, {"datasets": [TOWEL]}, source="datamentorshf/x@123")
    assert verdict["decision"] == "warn" and verdict["message"].startswith("WARNING: datamentorshf/x@123")


def test_provenance_file_is_preferred_over_the_recipe_list(tmp_path: Path) -> None:
    record = tmp_path / "recipe.json"
    record.write_text(json.dumps({"datasets": [TOWEL], "fingerprint": "f" * 64}))
    data = recipe_training_data(str(record), [{"repo_id": "ignored/repo"}])
    assert data == {"datasets": [TOWEL], "fingerprint": "f" * 64}


def test_parse_source_forms_and_errors() -> None:
    assert parse_source("") is None and parse_source(None) is None
    assert parse_source("/ws/checkpoints/old/checkpoint-6000") == {
        "path": "/ws/checkpoints/old/checkpoint-6000"
    }
    assert parse_source({"repo_id": "o/m", "revision": "main"}) == {
        "repo_id": "o/m",
        "revision": "main",
        "accept_other_data": False,
    }
    for bad, match in (
        ({"repo_id": "o/m"}, "warm_start_from.revision"),
        ({"repo_id": "model", "revision": "main"}, "warm_start_from.repo_id"),
        ({"repo_id": "o/m", "revision": "main", "accept_other_data": "yes"}, "accept_other_data"),
        ({"repo_id": "o/m", "revision": "main", "sha": "x"}, "unknown key"),
        (["o/m"], "must be a directory or"),
    ):
        with pytest.raises(InputError, match=match):
            parse_source(bad)
