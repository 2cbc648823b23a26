"""The warm start's plan line: the decision as `groot-ops plan` reports it, before and after provision."""

from __future__ import annotations

from typing import Any

import pytest

from groot_ops.hub.modelcard import render_model_card
from groot_ops.hub.warm_start import card_metadata, recipe_training_data, summary_line, warm_start_verdict

SHA = "0123456789abcdef" * 2 + "01234567"
TOWEL = {
    "name": "fold_towel",
    "repo_id": "unitreerobotics/G1_Dex1_Fold_Towel",
    "revision": "main",
    "sha": "a" * 40,
}
PATH = "/workspace/models/warm-start/datamentorshf--groot-g1-gripper-fold-towel/" + SHA


def _meta(datasets: list[dict[str, Any]]) -> dict[str, Any] | None:
    card = render_model_card(
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
            "data_fingerprint": "f" * 64,
        }
    )
    return card_metadata(card)


def _result(verdict: dict[str, Any], *, changed: bool = True) -> dict[str, Any]:
    return {
        "repo_id": "datamentorshf/groot-g1-gripper-fold-towel",
        "revision": "main",
        "sha": SHA,
        "path": PATH,
        "files": 12,
        "bytes": 3 * 1024**3,
        "changed": changed,
        "verdict": verdict,
    }


def test_pending_plan_compares_the_recipes_repos_and_says_the_commits_come_at_launch() -> None:
    # Before provision the host's dataset record does not exist: the recipe's repos are compared.
    data = recipe_training_data(None, [{"repo_id": TOWEL["repo_id"], "revision": "main"}])
    verdict = warm_start_verdict(_meta([TOWEL]), data, source="m")
    assert verdict["decision"] == "same" and verdict["basis"] == "repo"
    line = summary_line(_result(verdict), check=True, pending=True)
    assert line == (
        f"warm start from datamentorshf/groot-g1-gripper-fold-towel@main -> {SHA} (card matches: same "
        "dataset repos; their commits are compared at launch, once the dataset stage recorded them); "
        f"would fetch 12 files, 3.0 GiB into {PATH} once provision created the training container"
    )


@pytest.mark.parametrize(
    ("data", "basis", "why"),
    [
        ({"datasets": [TOWEL], "fingerprint": None}, "sha", "card matches: same dataset commits"),
        ({"datasets": [{**TOWEL, "sha": "b" * 40}], "fingerprint": "f" * 64}, "fingerprint",
         "card matches: same data fingerprint"),
    ],
)  # fmt: skip
def test_provisioned_host_says_on_what_the_card_matched(data: dict[str, Any], basis: str, why: str) -> None:
    verdict = warm_start_verdict(_meta([TOWEL]), data, source="m")
    assert verdict["basis"] == basis
    assert f"({why}); would fetch 12 files, 3.0 GiB into {PATH}" in summary_line(_result(verdict), check=True)
    assert summary_line(_result(verdict), check=False).endswith(
        f"({why}); fetched 12 files, 3.0 GiB into {PATH}"
    )
    assert summary_line(_result(verdict, changed=False), check=True).endswith(
        f"({why}); up to date in {PATH}"
    )


def test_other_data_acknowledged_names_both_sides() -> None:
    data = {"datasets": [{**TOWEL, "sha": "b" * 40}], "fingerprint": "e" * 64}
    verdict = warm_start_verdict(_meta([TOWEL]), data, source="m", accept_other_data=True)
    line = summary_line(_result(verdict), check=True)
    assert f"-> {SHA} (other data acknowledged by accept_other_data: trained on " in line
    assert f"{TOWEL['repo_id']}@{'a' * 12}, this recipe trains on {TOWEL['repo_id']}@{'b' * 12}" in line


def test_no_card_is_said_as_such() -> None:
    verdict = warm_start_verdict(None, {"datasets": [TOWEL]}, source="m")
    line = summary_line(_result(verdict), check=True, pending=True)
    assert f"-> {SHA} (no card: its training data is unknown, and upstream keeps the source's" in line


def test_other_data_unacknowledged_is_refused_whatever_the_path() -> None:
    # The pending path and the host use the same verdict: a refusal never becomes a plan line.
    other = recipe_training_data(None, [{"repo_id": "nvidia/Other", "revision": "main"}])
    verdict = warm_start_verdict(_meta([TOWEL]), other, source="datamentorshf/x@0123")
    assert verdict["decision"] == "refuse" and "datamentorshf/x@0123" in verdict["message"]
