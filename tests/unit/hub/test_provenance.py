"""groot_ops.hub.provenance: the model card's provenance comes from the launch record, and only from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groot_ops.errors import InputError
from groot_ops.hub.modelcard import render_model_card
from groot_ops.hub.provenance import publish_source, read_launch_record
from tests.checkpoint_factory import write_checkpoint

RECORD = {
    "recipe": "r",
    "launched_at": "2026-11-30T08:00:00Z",
    "groot_ops_commit": "1" * 40,
    "groot_ops_dirty": True,
    "isaac_groot_commit": "3" * 40,
    "base_model": {"id": "nvidia/GR00T-N1.6-3B", "revision": "main"},
    "embodiment_tag": "UNITREE_G1",
    "datasets": [{"name": "ft", "repo_id": "u/FT", "revision": "main", "sha": "a" * 40, "extra": "x"}],
    "data_fingerprint": "d" * 64,
    "stats_fingerprint": "e" * 64,
    "flags": {"dataset_path": "/workspace/datasets/groot/ft", "max_steps": 8},
    "modality_config": {"path": "/workspace/cfg/modality.py", "sha256": "f" * 64},
}


@pytest.fixture
def run(tmp_path: Path) -> dict:
    output = tmp_path / "checkpoints"
    for step, loss in ((2, 0.9), (4, 0.5)):
        ckpt = write_checkpoint(output, step)
        (ckpt / "trainer_state.json").write_text(
            json.dumps({"global_step": step, "log_history": [{"step": step, "loss": loss}]})
        )
    write_checkpoint(output, 6, complete=False)
    run_dir = tmp_path / "runs" / "r"
    run_dir.mkdir(parents=True)
    (run_dir / "launch.json").write_text(json.dumps(RECORD))
    return {"output": output, "run_dir": run_dir, "exports": tmp_path / "exports"}


def source(run: dict, **kwargs) -> dict:
    return publish_source(
        run["output"], run_dir=run["run_dir"], recipe="r", exports_dir=run["exports"], **kwargs
    )


def test_the_newest_servable_checkpoint_with_the_launch_records_provenance(run: dict) -> None:
    chosen = source(run)
    assert chosen["step"] == 4 and chosen["checkpoint"].endswith("checkpoint-4")
    assert chosen["export_dir"] == str(run["exports"] / "step-4")
    prov = chosen["provenance"]
    assert prov["datasets"] == [{"name": "ft", "repo_id": "u/FT", "revision": "main", "sha": "a" * 40}]
    assert prov["isaac_groot"] == {"repo": "NVIDIA/Isaac-GR00T", "commit": "3" * 40}
    assert (prov["steps"], prov["final_loss"]) == (4, 0.5)
    assert prov["training_flags"]["dataset_path"] == "ft"  # no host layout in the card
    assert prov["modality_config"] == {"file": "modality.py", "sha256": "f" * 64}
    card = render_model_card({**prov, "files": [{"path": "config.json", "size": 10}]})
    assert "d" * 64 in card and "e" * 64 in card and "(with uncommitted changes)" in card
    # The modality config a NEW_EMBODIMENT model was trained with, by file name and hash (no host path).
    assert f"- Modality config (`--modality_config_path`): `modality.py`, sha256 `{'f' * 64}`" in card
    assert "/workspace/cfg" not in card
    assert source(run, step=2)["provenance"]["final_loss"] == 0.9


def test_a_missing_or_incomplete_record_fails_naming_the_file(run: dict) -> None:
    record = run["run_dir"] / "launch.json"
    record.write_text(json.dumps({k: v for k, v in RECORD.items() if k != "data_fingerprint"}))
    with pytest.raises(InputError, match=r"launch record lacks data_fingerprint \(file .*launch.json\)"):
        source(run)
    record.write_text("{not json")
    with pytest.raises(InputError, match="unreadable launch record"):
        read_launch_record(run["run_dir"], "r")
    record.unlink()
    with pytest.raises(InputError, match="no launch record") as missing:
        source(run)
    assert str(record) in str(missing.value)
    # A dry run of a pipeline that has not trained yet: pending, not a failure.
    assert "no launch record" in source(run, check=True)["pending"]


def test_a_record_of_another_recipe_is_refused(run: dict) -> None:
    (run["run_dir"] / "launch.json").write_text(json.dumps({**RECORD, "recipe": "other"}))
    with pytest.raises(InputError, match="of recipe 'other', not 'r'"):
        source(run)


def test_a_warm_start_source_reaches_the_card_with_its_sha(run: dict) -> None:
    warm = {"repo_id": "datamentorshf/groot-g1-gripper-fold-towel", "revision": "main", "sha": "9" * 40}
    (run["run_dir"] / "launch.json").write_text(json.dumps({**RECORD, "warm_start": warm}))
    prov = source(run)["provenance"]
    assert prov["warm_start"] == warm
    card = render_model_card({**prov, "files": [{"path": "config.json", "size": 10}]})
    assert "Warm-started from `datamentorshf/groot-g1-gripper-fold-towel` at commit `" + "9" * 40 in card
    # ...and the card it makes is one a later warm start can read back.
    from groot_ops.hub.warm_start import card_metadata

    meta = card_metadata(card)
    assert meta is not None and meta["warm_start"] == warm and meta["datasets"][0]["sha"] == "a" * 40
    with pytest.raises(InputError, match=r"warm_start\.sha must be a 40-hex"):
        render_model_card({**prov, "warm_start": {**warm, "sha": "main"}, "files": []})


def test_no_warm_start_leaves_the_card_as_before(run: dict) -> None:
    prov = source(run)["provenance"]
    assert prov["warm_start"] is None
    assert "Warm-started" not in render_model_card({**prov, "files": [{"path": "config.json", "size": 10}]})


def test_one_step_chooses_exports_and_writes_the_card_then_changes_nothing(run: dict) -> None:
    from groot_ops.hub.publish_export import export_from_source

    spec = {"output_dir": str(run["output"]), "run_dir": str(run["run_dir"]), "recipe": "r"}
    spec["exports_dir"] = str(run["exports"])
    planned = export_from_source(spec, check=True)
    assert planned["changed"] and planned["pending"] is None and planned["step"] == 4
    assert not (run["exports"] / "step-4").exists()  # check mode writes nothing
    done = export_from_source(spec)
    export = run["exports"] / "step-4"
    assert done["changed"] and done["card_changed"] and done["export_dir"] == str(export)
    card = (export / "README.md").read_text()
    assert "a" * 40 in card and done["provenance"]["steps"] == 4
    assert {f["path"] for f in done["files"]} >= {"config.json"}
    again = export_from_source(spec)
    assert not again["changed"] and not again["card_changed"]
    # Nothing trained yet: a plan says why instead of failing; a real run fails naming what is missing.
    empty = {**spec, "output_dir": str(run["output"].parent / "none")}
    pending = export_from_source(empty, check=True)
    assert pending["pending"] and pending["files"] == [] and not pending["changed"]
    with pytest.raises(InputError):
        export_from_source(empty)
