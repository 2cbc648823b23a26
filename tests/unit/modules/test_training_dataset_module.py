"""groot_training_dataset: every step after the downloads in one module call, with the steps' own
idempotence, check mode that writes nothing, per-dataset lines and the provenance record."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from groot_ops.data.synth import synth_raw_dataset
from tests.unit.modules.harness import run_module


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("raw")
    synth_raw_dataset(root / "fold_towel", version="v2.1", episodes=2, min_len=32, max_len=36, seed=1)
    synth_raw_dataset(
        root / "wipe_table",
        version="v3.0",
        episodes=2,
        min_len=32,
        max_len=36,
        tasks=("Wipe the table.",),
        seed=2,
    )
    return root


def _args(raw: Path, ws: Path, names: tuple[str, ...] = ("fold_towel", "wipe_table")) -> dict[str, Any]:
    items = [
        {
            "name": n,
            "raw_dir": str(raw / n),
            "groot_dir": str(ws / "groot" / n),
            "ego_camera": "cam_left_high",
        }
        for n in names
    ]
    downloads = [
        {"item": {**item, "repo_id": f"unitreerobotics/{item['name']}"},
         "repo_id": f"unitreerobotics/{item['name']}", "revision": "main", "sha": f"{index}" * 40, "files": 7,
         "bytes": 1000}
        for index, item in enumerate(items)
    ]  # fmt: skip
    training = str(ws / "groot" / "demo-merged") if len(names) > 1 else items[0]["groot_dir"]
    (ws / "provenance").mkdir(parents=True, exist_ok=True)
    return {
        "datasets": items,
        "training_dir": training,
        "recipe": "demo",
        "provenance_file": str(ws / "provenance" / "demo.json"),
        "downloads": downloads,
    }


def _tree(path: Path) -> dict[str, int]:
    return {str(p.relative_to(path)): p.stat().st_mtime_ns for p in path.rglob("*") if p.is_file()}


def test_check_mode_then_one_build_then_nothing_changes(raw: Path, tmp_path: Path) -> None:
    args = _args(raw, tmp_path)
    planned = run_module("groot_training_dataset", args, check=True, diff=True)
    assert planned["changed"] is True, planned
    assert not (tmp_path / "groot").exists() and not (tmp_path / "provenance" / "demo.json").exists()
    assert planned["lines"][0].startswith("fold_towel: would convert") and planned["lines"][1].startswith(
        "wipe_table: would convert"
    )
    assert any(line.startswith("would merge fold_towel, wipe_table ->") for line in planned["lines"])
    assert planned["stats"] is None and planned["merge"] is None

    built = run_module("groot_training_dataset", args, diff=True)
    assert built["changed"] is True and built["validation"]["ok"] is True, built
    assert [line.split(":")[0] for line in built["lines"][:2]] == ["fold_towel", "wipe_table"]
    record = json.loads(Path(args["provenance_file"]).read_text())
    assert (
        record["training_dataset"] == args["training_dir"] and record["fingerprint"] == built["fingerprint"]
    )
    assert record["stats_fingerprint"] == built["stats_fingerprint"] and record["episodes"] == 4
    assert [d["name"] for d in record["datasets"]] == ["fold_towel", "wipe_table"]
    assert record["datasets"][1]["sha"] == "1" * 40 and record["datasets"][0]["fingerprint"]
    assert (Path(args["training_dir"]) / "meta" / "stats.json").is_file()

    before = _tree(tmp_path)
    again = run_module("groot_training_dataset", args)
    assert again["changed"] is False, again["lines"]
    assert all("up to date" in line or "valid" in line for line in again["lines"]), again["lines"]
    assert run_module("groot_training_dataset", args, check=True)["changed"] is False
    assert _tree(tmp_path) == before

    # Another resolved SHA changes only the record.
    args["downloads"][0]["sha"] = "f" * 40
    moved = run_module("groot_training_dataset", args, check=True, diff=True)
    assert moved["changed"] is True and list(moved["diff"]["after"]) == ["provenance"]


def test_pending_downloads_are_reported_not_probed_in_check_mode(raw: Path, tmp_path: Path) -> None:
    args = _args(raw, tmp_path, names=("fold_towel",))
    run_module("groot_training_dataset", args)
    planned = run_module("groot_training_dataset", {**args, "pending": ["fold_towel"]}, check=True)
    assert planned["changed"] is True and planned["converts"] == [None]
    assert planned["lines"][0].startswith("fold_towel: would convert")
    assert planned["lines"][1] == f"would compute stats and validate of {args['training_dir']}"


def test_a_failing_conversion_names_the_dataset_and_keeps_the_outputs(raw: Path, tmp_path: Path) -> None:
    local = tmp_path / "raw"
    shutil.copytree(raw, local)
    args = _args(local, tmp_path / "ws")
    assert run_module("groot_training_dataset", args)["changed"] is True
    outputs = _tree(tmp_path / "ws")
    parquet = sorted((local / "wipe_table" / "data").rglob("*.parquet"))[0]
    parquet.write_bytes(b"not a parquet file")
    failed = run_module("groot_training_dataset", args)
    assert failed["failed"] is True and failed["msg"].startswith("convert wipe_table: "), failed["msg"]
    assert parquet.name in failed["msg"]
    assert _tree(tmp_path / "ws") == outputs
