"""Upstream's stats entry points on a dataset, as its trainer calls them at every launch (rank 0).

Usage: data_stats.py DATASET ; runs ``gr00t.data.stats.generate_stats(DATASET)`` then
``generate_rel_stats(DATASET, EmbodimentTag.UNITREE_G1)`` in place and prints one JSON document on its
last line: ``{"stats": <text of meta/stats.json>, "relative_stats": <text of meta/relative_stats.json>,
"before": {file: text or null}}``. On a dataset without stats this is upstream's own numbers; on one
with ours it is the rewrite every launch does.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "stubs"))
import data_torchvision_shim  # noqa: F401 - before gr00t: video_utils imports torchvision
from gr00t.data.embodiment_tags import EmbodimentTag
from gr00t.data.stats import generate_rel_stats, generate_stats

FILES = ("meta/stats.json", "meta/relative_stats.json")


def main() -> None:
    root = Path(sys.argv[1])
    before = {rel: (root / rel).read_text() if (root / rel).exists() else None for rel in FILES}
    generate_stats(root)
    generate_rel_stats(root, EmbodimentTag.UNITREE_G1)
    print(
        json.dumps(
            {
                "stats": (root / FILES[0]).read_text(),
                "relative_stats": (root / FILES[1]).read_text(),
                "before": before,
            }
        )
    )


if __name__ == "__main__":
    main()
