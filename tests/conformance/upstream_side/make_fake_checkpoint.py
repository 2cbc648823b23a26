"""Write a servable UNITREE_G1 checkpoint directory with upstream's own processor files and a fake model.

    make_fake_checkpoint.py DATASET_DIR OUT_DIR

DATASET_DIR holds a GR00T dataset's ``meta/`` (info, episodes, tasks, modality, stats, relative_stats).
The statistics go the way fine-tuning takes them: upstream's ``LeRobotEpisodeLoader`` slices them by
``modality.json``, ``merge_statistics`` merges them (one dataset, weight 1), and a real
``Gr00tN1d6Processor`` configured as ``launch_finetune.py`` configures it (relative arm actions,
albumentations transforms) writes ``processor_config.json``, ``statistics.json`` and
``embodiment_id.json`` with its own ``save_pretrained``. ``config.json`` describes the fake model
(fake_gr00t_model.py). Prints the written file names as JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import fake_gr00t_model

# Padding sizes of the processor and the fake model's output; the real base checkpoint brings its own.
MAX_STATE_DIM = 128
MAX_ACTION_DIM = 128
MAX_ACTION_HORIZON = 50


def main(dataset_dir: str, out_dir: str) -> None:
    fake_gr00t_model.add_stubs()
    from gr00t.configs.data.embodiment_configs import MODALITY_CONFIGS
    from gr00t.data.dataset.lerobot_episode_loader import LeRobotEpisodeLoader
    from gr00t.data.dataset.sharded_mixture_dataset import merge_statistics
    from gr00t.model.gr00t_n1d6.processing_gr00t_n1d6 import Gr00tN1d6Processor

    configs = MODALITY_CONFIGS["unitree_g1"]
    per_dataset = LeRobotEpisodeLoader(dataset_dir, configs).get_dataset_statistics()
    statistics = {
        modality: merge_statistics(
            [per_dataset[modality]], [1.0], is_relative_stats=modality == "relative_action"
        )
        for modality in ("state", "action", "relative_action")
        if modality in per_dataset
    }
    processor = Gr00tN1d6Processor(
        modality_configs={"unitree_g1": configs},
        statistics={"unitree_g1": statistics},
        max_state_dim=MAX_STATE_DIM,
        max_action_dim=MAX_ACTION_DIM,
        max_action_horizon=MAX_ACTION_HORIZON,
        use_albumentations=True,  # the fine-tuning default (use_albumentations_transforms)
        shortest_image_edge=256,
        crop_fraction=0.95,
        use_relative_action=True,  # launch_finetune.py sets it
    )
    out = Path(out_dir)
    written = processor.save_pretrained(out)
    config = {
        "model_type": "Gr00tN1d6",
        fake_gr00t_model.FAKE_MARKER: True,
        "max_state_dim": MAX_STATE_DIM,
        "max_action_dim": MAX_ACTION_DIM,
        "max_action_horizon": MAX_ACTION_HORIZON,
    }
    (out / "config.json").write_text(json.dumps(config, indent=2))
    print(json.dumps({"files": sorted(p.name for p in [*written, out / "config.json"])}))


if __name__ == "__main__":
    main(*sys.argv[1:3])
