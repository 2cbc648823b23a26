"""merge: row-level renumbering (defect 4: 1,400 episodes trained on one prompt), refusal, idempotence."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from groot_ops.data import schema
from groot_ops.data.merge import merge_datasets
from groot_ops.errors import InputError
from tests.data_factory import LENGTHS, copy_tree, make_groot, make_raw, tree_state


@pytest.fixture(scope="module")
def second(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another converted dataset whose tasks overlap the first one's only partly, in another order."""
    root = tmp_path_factory.mktemp("second")
    raw = make_raw(root / "raw", seed=5, lengths=(33, 31), tasks=("Pour the medicine.", "Fold the towel."))
    return make_groot(root / "groot", raw)


def _rows(root: Path, column: str) -> list[int]:
    episodes = [json.loads(line) for line in (root / "meta/episodes.jsonl").read_text().splitlines()]
    out: list[int] = []
    for e in episodes:
        out += pq.read_table(root / schema.data_file(e["episode_index"])).column(column).to_pylist()
    return out


def test_task_index_episode_index_and_index_are_rewritten_in_the_rows(
    tmp_path: Path, groot_v21: Path, second: Path
) -> None:
    out = tmp_path / "merged"
    result = merge_datasets([str(groot_v21), str(second)], out)
    assert result["changed"] and result["episodes"] == 6 and result["tasks"] == 3
    tasks = [json.loads(line) for line in (out / "meta/tasks.jsonl").read_text().splitlines()]
    assert tasks == [
        {"task_index": 0, "task": "Fold the towel."},
        {"task_index": 1, "task": "Wipe the table."},
        {"task_index": 2, "task": "Pour the medicine."},
    ]
    text_of = {t["task_index"]: t["task"] for t in tasks}
    episodes = [json.loads(line) for line in (out / "meta/episodes.jsonl").read_text().splitlines()]
    assert [e["episode_index"] for e in episodes] == list(range(6))
    assert [e["length"] for e in episodes] == [*LENGTHS, 33, 31]
    for e in episodes:
        rows = pq.read_table(out / schema.data_file(e["episode_index"]))
        # Every row resolves to the text its episode was recorded with.
        assert {text_of[i] for i in rows.column("task_index").to_pylist()} == set(e["tasks"])
        assert set(rows.column("episode_index").to_pylist()) == {e["episode_index"]}
    assert _rows(out, "index") == list(range(sum(LENGTHS) + 64))
    # The second input's "Pour the medicine." was its task 0; in the merge it must be 2, not 0.
    assert pq.read_table(out / schema.data_file(4)).column("task_index").to_pylist()[0] == 2
    state_in = np.array(pq.read_table(second / schema.data_file(0)).column("observation.state").to_pylist())
    state_out = np.array(pq.read_table(out / schema.data_file(4)).column("observation.state").to_pylist())
    np.testing.assert_array_equal(state_in, state_out)
    info = json.loads((out / "meta/info.json").read_text())
    assert (
        info["total_episodes"] == 6 and info["total_frames"] == sum(LENGTHS) + 64 and info["total_tasks"] == 3
    )
    assert info["fps"] == 30


def test_videos_are_hardlinked(tmp_path: Path, groot_v21: Path, second: Path) -> None:
    out = tmp_path / "merged"
    result = merge_datasets([str(groot_v21), str(second)], out)
    assert result["videos"] == {"linked": 6, "copied": 0}
    assert os.path.samestat((out / schema.video_file(5)).stat(), (second / schema.video_file(1)).stat())


def test_idempotent_and_check_mode(tmp_path: Path, groot_v21: Path, second: Path) -> None:
    out = tmp_path / "merged"
    inputs = [str(groot_v21), str(second)]
    assert merge_datasets(inputs, out, check=True)["changed"] and not out.exists()
    merge_datasets(inputs, out)
    state = tree_state(out)
    assert not merge_datasets(inputs, out)["changed"]
    assert not merge_datasets(inputs, out, check=True)["changed"]
    assert tree_state(out) == state
    # Another order is another dataset.
    assert merge_datasets(list(reversed(inputs)), out, check=True)["changed"]


def test_different_fps_is_refused(tmp_path: Path, groot_v21: Path, second: Path) -> None:
    other = copy_tree(second, tmp_path / "other")
    info = json.loads((other / "meta/info.json").read_text())
    info["fps"] = 50
    (other / "meta/info.json").write_text(json.dumps(info))
    with pytest.raises(InputError, match="fps 50") as caught:
        merge_datasets([str(groot_v21), str(other)], tmp_path / "merged")
    assert caught.value.path == str(other / "meta/info.json")
    assert not (tmp_path / "merged").exists()


def test_different_layout_is_refused(tmp_path: Path, groot_v21: Path, raw_v21: Path) -> None:
    with pytest.raises(InputError, match="convert it first"):
        merge_datasets([str(groot_v21), str(raw_v21)], tmp_path / "merged")
    other = copy_tree(groot_v21, tmp_path / "other")
    info = json.loads((other / "meta/info.json").read_text())
    info["features"]["observation.state"]["shape"] = [29]
    (other / "meta/info.json").write_text(json.dumps(info))
    with pytest.raises(InputError) as caught:
        merge_datasets([str(groot_v21), str(other)], tmp_path / "merged")
    assert caught.value.column == "observation.state"


def test_failed_merge_leaves_previous_output(tmp_path: Path, groot_v21: Path, second: Path) -> None:
    out = tmp_path / "merged"
    merge_datasets([str(groot_v21)], out)
    state = tree_state(out)
    broken = copy_tree(second, tmp_path / "broken")
    (broken / schema.data_file(1)).write_bytes(b"PAR1 not really")
    with pytest.raises(InputError) as caught:
        merge_datasets([str(groot_v21), str(broken)], out)
    assert caught.value.episode == 1
    assert tree_state(out) == state
