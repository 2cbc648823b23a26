"""groot_convert, groot_merge, groot_stats, groot_validate: arguments, check mode, diff, idempotence, errors.

The modules run their real ``main()`` over the real data engine on small synthetic raw datasets.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from groot_ops.data.synth import synth_raw_dataset
from tests.unit.modules.harness import run_module


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("raw")
    synth_raw_dataset(root / "towel", version="v2.1", episodes=2, min_len=32, max_len=36, seed=1)
    synth_raw_dataset(
        root / "wipe", version="v3.0", episodes=2, min_len=32, max_len=36, tasks=("Wipe the table.",), seed=2
    )
    return {"towel": root / "towel", "wipe": root / "wipe"}


@pytest.fixture(scope="module")
def converted(raw: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("groot")
    for name, src in raw.items():
        result = run_module("groot_convert", {"src": str(src), "dest": str(root / name)})
        assert result["changed"] is True, result
    return {name: root / name for name in raw}


def _tree(path: Path) -> dict[str, int]:
    return {str(p.relative_to(path)): p.stat().st_mtime_ns for p in path.rglob("*") if p.is_file()}


# -- groot_convert -------------------------------------------------------------------------------


def test_convert_check_mode_writes_nothing_then_converts_once(raw: dict[str, Path], tmp_path: Path) -> None:
    dest = tmp_path / "towel"
    planned = run_module(
        "groot_convert", {"src": str(raw["towel"]), "dest": str(dest)}, check=True, diff=True
    )
    assert planned["changed"] is True and "failed" not in planned
    assert "diff" in planned and "before" in planned["diff"] and "after" in planned["diff"]
    assert not dest.exists()

    first = run_module("groot_convert", {"src": str(raw["towel"]), "dest": str(dest)})
    assert first["changed"] is True
    assert (first["episodes"], first["source_version"]) == (2, "v2.1")
    assert first["frames"] == sum(
        json.loads(line)["length"] for line in (dest / "meta/episodes.jsonl").read_text().splitlines()
    )
    assert "diff" not in first  # only with --diff
    before = _tree(dest)

    second = run_module("groot_convert", {"src": str(raw["towel"]), "dest": str(dest)})
    assert second["changed"] is False
    assert second["fingerprint"] == first["fingerprint"]
    assert _tree(dest) == before

    again_check = run_module("groot_convert", {"src": str(raw["towel"]), "dest": str(dest)}, check=True)
    assert again_check["changed"] is False


def test_convert_other_ego_camera_redoes_the_conversion(raw: dict[str, Path], tmp_path: Path) -> None:
    dest = tmp_path / "towel"
    run_module("groot_convert", {"src": str(raw["towel"]), "dest": str(dest)})
    planned = run_module(
        "groot_convert",
        {"src": str(raw["towel"]), "dest": str(dest), "ego_camera": "cam_right_high"},
        check=True,
        diff=True,
    )
    assert planned["changed"] is True
    assert planned["diff"]["before"] != planned["diff"]["after"]
    redone = run_module(
        "groot_convert", {"src": str(raw["towel"]), "dest": str(dest), "ego_camera": "cam_right_high"}
    )
    assert redone["changed"] is True


def test_convert_v30_source(raw: dict[str, Path], tmp_path: Path) -> None:
    result = run_module("groot_convert", {"src": str(raw["wipe"]), "dest": str(tmp_path / "wipe")})
    assert result["changed"] is True and result["source_version"] == "v3.0" and result["episodes"] == 2


def test_convert_missing_source_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dataset"
    result = run_module("groot_convert", {"src": str(missing), "dest": str(tmp_path / "out")})
    assert result["failed"] is True
    assert str(missing) in result["msg"]
    assert not (tmp_path / "out").exists()


def test_convert_unknown_camera_fails_naming_it(raw: dict[str, Path], tmp_path: Path) -> None:
    result = run_module(
        "groot_convert", {"src": str(raw["towel"]), "dest": str(tmp_path / "o"), "ego_camera": "cam_nowhere"}
    )
    assert result["failed"] is True and "cam_nowhere" in result["msg"]


def test_convert_bad_input_keeps_previous_output(raw: dict[str, Path], tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(raw["towel"], src)
    dest = tmp_path / "towel"
    run_module("groot_convert", {"src": str(src), "dest": str(dest)})
    before = _tree(dest)
    parquet = sorted((src / "data").rglob("*.parquet"))[0]
    parquet.write_bytes(b"not a parquet file")
    result = run_module("groot_convert", {"src": str(src), "dest": str(dest)})
    assert result["failed"] is True
    assert parquet.name in result["msg"]
    assert _tree(dest) == before


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"dest": "/tmp/x"}, "src"),
        ({"src": "/tmp/x"}, "dest"),
        ({"src": "/tmp/x", "dest": "/tmp/y", "ego_camera": "  "}, "ego_camera"),
        ({"src": "/tmp/x", "dest": "/tmp/y", "bogus": 1}, "bogus"),
    ],
)
def test_convert_argument_errors(args: dict, needle: str) -> None:
    result = run_module("groot_convert", args)
    assert result["failed"] is True and needle in result["msg"]


# -- groot_merge ---------------------------------------------------------------------------------


def test_merge_check_then_merge_once(converted: dict[str, Path], tmp_path: Path) -> None:
    inputs = [str(converted["towel"]), str(converted["wipe"])]
    dest = tmp_path / "merged"
    planned = run_module("groot_merge", {"inputs": inputs, "dest": str(dest)}, check=True, diff=True)
    assert planned["changed"] is True and "diff" in planned
    assert not dest.exists()

    first = run_module("groot_merge", {"inputs": inputs, "dest": str(dest)})
    assert first["changed"] is True
    assert first["episodes"] == 4 and first["tasks"] == 2
    tasks = [json.loads(line)["task"] for line in (dest / "meta/tasks.jsonl").read_text().splitlines()]
    assert sorted(tasks) == ["Fold the towel.", "Wipe the table."]

    second = run_module("groot_merge", {"inputs": inputs, "dest": str(dest)})
    assert second["changed"] is False and second["fingerprint"] == first["fingerprint"]


@pytest.mark.parametrize(
    ("inputs", "needle"),
    [(["/a"], "at least two"), (["/a", "/b", "/a"], "listed twice")],
)
def test_merge_argument_errors(inputs: list[str], needle: str, tmp_path: Path) -> None:
    result = run_module("groot_merge", {"inputs": inputs, "dest": str(tmp_path / "m")})
    assert result["failed"] is True and needle in result["msg"]


def test_merge_missing_input_names_it(converted: dict[str, Path], tmp_path: Path) -> None:
    missing = str(tmp_path / "gone")
    result = run_module(
        "groot_merge", {"inputs": [str(converted["towel"]), missing], "dest": str(tmp_path / "m")}
    )
    assert result["failed"] is True and missing in result["msg"]
    assert not (tmp_path / "m").exists()


# -- groot_stats ---------------------------------------------------------------------------------


def test_stats_check_compute_fresh_force(converted: dict[str, Path], tmp_path: Path) -> None:
    ds = tmp_path / "towel"
    shutil.copytree(converted["towel"], ds)
    (ds / "meta/stats.json").unlink(missing_ok=True)
    (ds / "meta/relative_stats.json").unlink(missing_ok=True)

    planned = run_module("groot_stats", {"path": str(ds)}, check=True, diff=True)
    assert planned["changed"] is True and planned["fresh_before"] is False and "diff" in planned
    assert not (ds / "meta/stats.json").exists()

    first = run_module("groot_stats", {"path": str(ds)})
    assert first["changed"] is True
    stats = json.loads((ds / "meta/stats.json").read_text())
    assert len(stats["observation.state"]["q01"]) == 31 and len(stats["action"]["mean"]) == 23

    second = run_module("groot_stats", {"path": str(ds)})
    assert second["changed"] is False and second["fresh_before"] is True

    forced = run_module("groot_stats", {"path": str(ds), "force": True})
    assert forced["changed"] is True


def test_stats_are_redone_when_the_data_changed(converted: dict[str, Path], tmp_path: Path) -> None:
    ds = tmp_path / "towel"
    shutil.copytree(converted["towel"], ds)
    run_module("groot_stats", {"path": str(ds)})
    tasks = ds / "meta/tasks.jsonl"
    tasks.write_text(tasks.read_text().replace("Fold the towel.", "Fold the towel neatly."))
    assert run_module("groot_stats", {"path": str(ds)}, check=True)["changed"] is True


def test_stats_missing_dataset_names_the_path(tmp_path: Path) -> None:
    result = run_module("groot_stats", {"path": str(tmp_path / "nothing")})
    assert result["failed"] is True and str(tmp_path / "nothing") in result["msg"]


# -- groot_validate ------------------------------------------------------------------------------


def test_validate_good_dataset(converted: dict[str, Path], tmp_path: Path) -> None:
    ds = tmp_path / "towel"
    shutil.copytree(converted["towel"], ds)
    run_module("groot_stats", {"path": str(ds)})
    result = run_module("groot_validate", {"path": str(ds)}, check=True)
    assert result["changed"] is False and result["ok"] is True and result["problems"] == []
    assert result["episodes"] == 2


def test_validate_reports_each_problem_with_its_place(converted: dict[str, Path], tmp_path: Path) -> None:
    ds = tmp_path / "towel"
    shutil.copytree(converted["towel"], ds)
    run_module("groot_stats", {"path": str(ds)})
    # A task_index that tasks.jsonl does not define: every episode would train on no prompt.
    (ds / "meta/tasks.jsonl").write_text(json.dumps({"task_index": 7, "task": "Something else."}) + "\n")

    failed = run_module("groot_validate", {"path": str(ds)})
    assert failed["failed"] is True and failed["changed"] is False
    assert failed["msg"].startswith(f"dataset {ds} failed GR00T validation")
    assert failed["problems"] and failed["ok"] is False

    reported = run_module("groot_validate", {"path": str(ds), "fail_on_problems": False})
    assert "failed" not in reported and reported["ok"] is False
    assert reported["problems"] == failed["problems"]
