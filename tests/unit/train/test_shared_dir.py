"""The multi-node shared checkpoint directory check: marker on the first node, verified on every node."""

from __future__ import annotations

from pathlib import Path

import pytest

from groot_ops.errors import ConfigError
from groot_ops.train import shared_dir


def test_a_shared_directory_passes(tmp_path: Path) -> None:
    out = tmp_path / "checkpoints" / "r"
    assert shared_dir.mark(str(out), "tok")["marked"]
    assert shared_dir.verify(str(out), "tok", node="n1", first_node="n0")["shared"] is True


def test_a_node_with_its_own_directory_is_refused_with_the_reason(tmp_path: Path) -> None:
    shared_dir.mark(str(tmp_path / "node0"), "tok")
    (tmp_path / "node1").mkdir()
    with pytest.raises(ConfigError) as err:
        shared_dir.verify(str(tmp_path / "node1"), "tok", node="trainer-2", first_node="trainer-1")
    message = str(err.value)
    assert (
        "training node trainer-2 does not share the checkpoint directory with the first node trainer-1"
        in message
    )
    assert "holds no marker" in message and "only global rank 0" in message


def test_a_stale_marker_from_an_earlier_play_is_not_proof(tmp_path: Path) -> None:
    shared_dir.mark(str(tmp_path), "old-token")
    with pytest.raises(ConfigError, match="a marker from another run"):
        shared_dir.verify(str(tmp_path), "new-token", node="n1", first_node="n0")


def test_check_mode_writes_nothing_where_nothing_exists(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    assert shared_dir.mark(str(fresh), "tok", check=True)["marked"] is False
    assert not fresh.exists()
    assert shared_dir.verify(str(fresh), "tok", node="n1", first_node="n0", check=True)["shared"] is None
