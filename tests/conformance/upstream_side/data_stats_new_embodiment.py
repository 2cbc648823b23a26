"""Upstream's stats entry points on a NEW_EMBODIMENT dataset, with the recipe's modality config registered
the way its trainer registers it.

Usage: data_stats_new_embodiment.py DATASET CONFIG.py ; ``load_modality_config(CONFIG)``
(gr00t/experiment/launch_finetune.py: the file's directory appended to ``sys.path``, imported by its stem,
registering NEW_EMBODIMENT), then ``generate_stats(DATASET)`` and ``generate_rel_stats(DATASET,
EmbodimentTag.NEW_EMBODIMENT)`` in place, as the trainer's rank 0 does at launch. Prints one JSON document
on its last line: ``{"stats": <text of meta/stats.json>, "relative_stats": <text of relative_stats.json>}``.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "stubs"))
import data_torchvision_shim  # noqa: F401 - before gr00t: video_utils imports torchvision

# launch_finetune imports the training run at module level; only its load_modality_config is used here.
sys.modules["gr00t.experiment.experiment"] = types.ModuleType("gr00t.experiment.experiment")
sys.modules["gr00t.experiment.experiment"].run = None  # type: ignore[attr-defined]

from gr00t.data.embodiment_tags import EmbodimentTag  # noqa: E402
from gr00t.data.stats import generate_rel_stats, generate_stats  # noqa: E402
from gr00t.experiment.launch_finetune import load_modality_config  # noqa: E402


def main() -> None:
    root, config = Path(sys.argv[1]), sys.argv[2]
    load_modality_config(config)
    generate_stats(root)
    generate_rel_stats(root, EmbodimentTag.NEW_EMBODIMENT)
    print(
        json.dumps(
            {
                "stats": (root / "meta/stats.json").read_text(),
                "relative_stats": (root / "meta/relative_stats.json").read_text(),
            }
        )
    )


if __name__ == "__main__":
    main()
