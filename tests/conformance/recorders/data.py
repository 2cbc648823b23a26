"""Data fixtures from the real Isaac-GR00T code (tests/fixtures/upstream/data/).

- ``loader_verdict.json``: the real ``LeRobotEpisodeLoader`` (UNITREE_G1, video through the ``opencv``
  backend: torchcodec does not install beside CPU torch 2.13, and upstream's fallback from torchcodec
  lands on ``pyav``, which ``get_frames_by_indices`` does not implement) on our conversions (v2.1,
  v3.0 with 1,500-frame episodes from an AV1 source, their merge) and on broken copies of the v2.1 one.
- ``stats_v21.json``: upstream's ``generate_stats`` + ``generate_rel_stats`` on our v2.1 conversion.
- ``relative_stats_rewrite.json``: ``relative_stats.json`` as we write it, and as upstream's trainer
  rewrites it at every launch (``generate_rel_stats`` on a dataset that already has our stats).
- ``stats_new_embodiment.json``: upstream's ``generate_stats`` + ``generate_rel_stats(..., NEW_EMBODIMENT)``
  on a GR00T-layout teleop-shaped dataset (``tests.data_factory.teleop_dataset``: 7-wide Dex3 hands,
  1,200-1,500-frame episodes) with the production ``g1_teleop_config.py`` registered as its trainer does.

The datasets are rebuilt by ``tests.data_factory.verdict_datasets`` (deterministic), so CI tests can
hold the product and the stand-in against these files without upstream.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

from tests.conformance.upstream import PINNED_COMMIT, Upstream

TOPIC = "data"
BACKEND = "opencv"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _write(path: Path, payload: dict) -> Path:
    path.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n")
    return path


def record(upstream: Upstream, out_dir: Path) -> list[Path]:
    from tests.data_factory import verdict_datasets

    with tempfile.TemporaryDirectory(prefix="groot-data-record-") as tmp:
        datasets = verdict_datasets(Path(tmp))
        found = upstream.run_json("data_loader_verdict.py", BACKEND, *map(str, datasets.values()))
        by_path = found["datasets"]
        verdicts = {name: by_path[str(path)] for name, path in datasets.items()}
        written = [
            _write(
                out_dir / "loader_verdict.json",
                {"upstream": PINNED_COMMIT, "backend": BACKEND, "datasets": verdicts},
            )
        ]

        bare = Path(tmp) / "v21-no-stats"
        shutil.copytree(datasets["v2.1"], bare)
        for name in ("stats.json", "relative_stats.json"):
            (bare / "meta" / name).unlink()
        generated = upstream.run_json("data_stats.py", str(bare))
        written.append(
            _write(
                out_dir / "stats_v21.json",
                {
                    "upstream": PINNED_COMMIT,
                    "stats": generated["stats"],
                    "relative_stats": generated["relative_stats"],
                },
            )
        )

        ours = Path(tmp) / "v21-our-stats"
        shutil.copytree(datasets["v2.1"], ours)
        rewritten = upstream.run_json("data_stats.py", str(ours))
        before = rewritten["before"]
        written.append(
            _write(
                out_dir / "relative_stats_rewrite.json",
                {
                    "upstream": PINNED_COMMIT,
                    # The bytes after a launch; ours before it only by digest (equal: nothing changed).
                    "after_launch": rewritten["relative_stats"],
                    "ours_sha256": _sha256(before["meta/relative_stats.json"]),
                    "after_launch_sha256": _sha256(rewritten["relative_stats"]),
                    "stats_ours_sha256": _sha256(before["meta/stats.json"]),
                    "stats_after_launch_sha256": _sha256(rewritten["stats"]),
                },
            )
        )
        written.append(record_new_embodiment(upstream, out_dir, Path(tmp)))
    return written


def record_new_embodiment(upstream: Upstream, out_dir: Path, tmp: Path) -> Path:
    """``stats_new_embodiment.json`` alone (``python -c`` it to re-record without the loader verdicts)."""
    from tests.data_factory import TELEOP_CONFIG, teleop_dataset

    teleop = teleop_dataset(tmp / "teleop")
    generated = upstream.run_json("data_stats_new_embodiment.py", str(teleop), str(TELEOP_CONFIG))
    return _write(
        out_dir / "stats_new_embodiment.json",
        {
            "upstream": PINNED_COMMIT,
            "config": TELEOP_CONFIG.name,
            "config_sha256": _sha256(TELEOP_CONFIG.read_text()),
            "stats": generated["stats"],
            "relative_stats": generated["relative_stats"],
        },
    )
