"""GR00T-layout datasets: adopted without conversion, validated first, shipped stats never trusted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from groot_ops.data.fingerprint import RECORD_NAME, dataset_fingerprint
from groot_ops.data.groot_layout import import_groot_dataset, prepare_dataset
from groot_ops.data.stats import compute_stats
from groot_ops.data.validate import validate_dataset
from groot_ops.errors import InputError
from tests.data_factory import make_groot, make_raw


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    """A GR00T-layout dataset as a Hub repo ships it: no groot-ops record, stats of unknown origin."""
    groot = make_groot(tmp_path / "conv", make_raw(tmp_path / "raw"))
    src = tmp_path / "download" / "unitree_g1.Task"
    shutil.copytree(groot, src)
    (src / RECORD_NAME).unlink()
    (src / "meta" / "stats.json").write_text(json.dumps({"observation.state": {"mean": [0.0]}}))
    return src


def test_adopts_without_conversion_and_recomputes_shipped_stats(shipped: Path, tmp_path: Path) -> None:
    out = tmp_path / "groot" / "loco"
    result = import_groot_dataset(shipped, out)
    assert result["changed"] is True and result["source_version"] == "groot"
    assert result["fingerprint"] == dataset_fingerprint(shipped)
    # Data files are the download's own (hard links), not rewritten.
    first = sorted((shipped / "data").rglob("*.parquet"))[0]
    assert (out / first.relative_to(shipped)).stat().st_ino == first.stat().st_ino
    # The shipped stats were left behind: they are computed from the data, then the dataset validates.
    assert not (out / "meta" / "stats.json").exists()
    stats = compute_stats(out)
    assert stats["changed"] is True and stats["fresh_before"] is False
    assert validate_dataset(out)["ok"], validate_dataset(out)["problems"]
    assert json.loads((shipped / "meta" / "stats.json").read_text()) == {"observation.state": {"mean": [0.0]}}
    # Idempotent: a second run changes nothing and the stats stay fresh.
    assert import_groot_dataset(shipped, out)["changed"] is False
    assert compute_stats(out)["changed"] is False


def test_check_mode_writes_nothing(shipped: Path, tmp_path: Path) -> None:
    out = tmp_path / "groot" / "loco"
    assert import_groot_dataset(shipped, out, check=True)["changed"] is True
    assert not out.exists()


def test_changed_download_is_adopted_again(shipped: Path, tmp_path: Path) -> None:
    out = tmp_path / "groot" / "loco"
    import_groot_dataset(shipped, out)
    tasks = shipped / "meta" / "tasks.jsonl"
    tasks.write_text(tasks.read_text().replace("Fold the towel.", "Fold the towel twice."))
    again = import_groot_dataset(shipped, out)
    assert again["changed"] is True and again["fingerprint"] == dataset_fingerprint(shipped)


def test_data_the_loader_rejects_fails_before_anything_is_written(shipped: Path, tmp_path: Path) -> None:
    info = shipped / "meta" / "info.json"
    data = json.loads(info.read_text())
    data["features"]["observation.state"]["shape"] = [43]
    info.write_text(json.dumps(data))
    out = tmp_path / "groot" / "loco"
    with pytest.raises(
        InputError, match=r"UNITREE_G1 loader rules .*observation.state.*width 43, expected 31"
    ):
        import_groot_dataset(shipped, out)
    assert not out.exists()


def test_a_folder_that_is_not_a_groot_dataset_is_named(tmp_path: Path) -> None:
    raw = make_raw(tmp_path / "raw")
    (raw / "meta" / "info.json").rename(raw / "meta" / "info.json.bak")
    with pytest.raises(InputError, match="not a GR00T-layout dataset") as err:
        import_groot_dataset(raw, tmp_path / "out")
    assert err.value.path == str(raw)


def test_prepare_dispatches_on_layout(shipped: Path, tmp_path: Path) -> None:
    assert prepare_dataset(shipped, tmp_path / "a", layout="groot")["source_version"] == "groot"
    raw = make_raw(tmp_path / "raw2")
    assert prepare_dataset(raw, tmp_path / "b", layout="lerobot")["source_version"] == "v2.1"
    with pytest.raises(InputError, match="layout must be one of lerobot, groot"):
        prepare_dataset(raw, tmp_path / "c", layout="rlds")


def test_lab_seed_of_a_groot_layout_repo_is_adopted_and_its_stats_replaced(tmp_path: Path) -> None:
    from groot_ops.lab.hub import groot_repo_folder
    from groot_ops.lab.seedplan import seed_plan

    repo = Path(__file__).resolve().parents[3]
    spec = next(s for s in seed_plan(repo / "inventory" / "lab") if s.get("groot_subfolders"))
    assert spec["groot_subfolders"] == ["unitree_g1.LMPnPAppleToPlateDC"]
    folder = groot_repo_folder(tmp_path / "seed", {**spec, "episodes": 2})
    src = folder / "unitree_g1.LMPnPAppleToPlateDC"
    shipped = json.loads((src / "meta" / "stats.json").read_text())
    out = tmp_path / "groot" / "loco"
    assert import_groot_dataset(src, out)["episodes"] == 2
    compute_stats(out)
    ours = json.loads((out / "meta" / "stats.json").read_text())
    assert ours["observation.state"]["mean"] != shipped["observation.state"]["mean"]
    assert validate_dataset(out)["ok"]


def test_another_embodiment_is_not_held_to_the_unitree_g1_widths(shipped: Path, tmp_path: Path) -> None:
    info = shipped / "meta" / "info.json"
    data = json.loads(info.read_text())
    data["features"]["observation.state"]["shape"] = [43]
    info.write_text(json.dumps(data))
    got = import_groot_dataset(shipped, tmp_path / "teleop", embodiment_tag="NEW_EMBODIMENT")
    assert got["changed"] is True
    (shipped / "meta" / "modality.json").unlink()
    with pytest.raises(InputError, match=r"NEW_EMBODIMENT loader rules .*modality.json: missing file"):
        import_groot_dataset(shipped, tmp_path / "teleop2", embodiment_tag="NEW_EMBODIMENT")
