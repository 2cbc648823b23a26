"""Test helper: an inference-only model directory of the stand-in policy, written with numpy only.

Server, probe and deploy tests need a servable checkpoint but not a training run; the weights are random,
the files and formats are the ones launch_finetune.py writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from tests.standins.g1_layout import ACTION_GROUPS, STATE_GROUPS

STANDIN_ROOT = Path(__file__).resolve().parent / "isaac_groot"
if str(STANDIN_ROOT) not in sys.path:
    sys.path.insert(0, str(STANDIN_ROOT))

from gr00t.data.embodiment import ACTION_HORIZON  # noqa: E402
from gr00t.data.normalization import build_statistics  # noqa: E402
from gr00t.model.policy import EMBED_DIM, HIDDEN_DIM, model_config  # noqa: E402
from gr00t.policy.modality_config import unitree_g1_modality_configs  # noqa: E402
from gr00t.utils.safetensors_io import save_sharded  # noqa: E402


def _stats(dim: int) -> dict:
    return {
        "mean": [0.0] * dim,
        "std": [1.0] * dim,
        "min": [-1.0] * dim,
        "max": [1.0] * dim,
        "q01": [-0.9] * dim,
        "q99": [0.9] * dim,
    }


def unitree_g1_configs() -> dict[str, dict]:
    """MODALITY_CONFIGS["unitree_g1"] as save_pretrained writes it into processor_config.json."""
    return {k: v.as_json() for k, v in unitree_g1_modality_configs().items()}


def arms_and_hands_configs(horizon: int = ACTION_HORIZON) -> dict[str, dict]:
    """inventory/modality_configs/lab/lab_g1_arms.py (NEW_EMBODIMENT) as save_pretrained writes it."""
    groups = ["left_arm", "right_arm", "left_hand", "right_hand"]
    actions = [
        {"rep": rep, "type": "NON_EEF", "format": "DEFAULT", "state_key": None}
        for rep in ("RELATIVE", "RELATIVE", "ABSOLUTE", "ABSOLUTE")
    ]
    none = {"sin_cos_embedding_keys": None, "mean_std_embedding_keys": None, "action_configs": None}
    return {
        "video": {"delta_indices": [0], "modality_keys": ["ego_view"], **none},
        "state": {"delta_indices": [0], "modality_keys": groups, **none},
        "action": {
            "delta_indices": list(range(horizon)),
            "modality_keys": groups,
            **none,
            "action_configs": actions,
        },
        "language": {"delta_indices": [0], "modality_keys": ["annotation.human.task_description"], **none},
    }


def write_model_dir(
    dest: Path,
    *,
    seed: int = 0,
    tasks: tuple[str, ...] = ("Fold the towel.",),
    embodiment: str = "unitree_g1",
    modality_configs: dict[str, dict] | None = None,
) -> Path:
    """A servable checkpoint trained for ``embodiment``; ``modality_configs`` (as_json dicts) default to
    UNITREE_G1's. Its processor_config.json carries them under ``processor_kwargs`` as upstream's does."""
    rng = np.random.default_rng(seed)
    dest.mkdir(parents=True, exist_ok=True)
    config = model_config(state_dim=31, action_dim=23, tasks=list(tasks), base_model="nvidia/GR00T-N1.6-3B")
    shapes = {
        "task_embedding.weight": (len(config["task_vocab"]), EMBED_DIM),
        "fc1.weight": (HIDDEN_DIM, 31 + EMBED_DIM),
        "fc1.bias": (HIDDEN_DIM,),
        "fc2.weight": (HIDDEN_DIM, HIDDEN_DIM),
        "fc2.bias": (HIDDEN_DIM,),
        "head.weight": (ACTION_HORIZON * 23, HIDDEN_DIM),
        "head.bias": (ACTION_HORIZON * 23,),
    }
    weights = {k: (rng.standard_normal(v) * 0.1).astype(np.float32) for k, v in shapes.items()}
    save_sharded(weights, dest)
    rel = {
        k: {"mean": [[0.0] * 7] * ACTION_HORIZON, "std": [[1.0] * 7] * ACTION_HORIZON}
        for k in ("left_arm", "right_arm")
    }
    statistics = build_statistics(
        {"observation.state": _stats(31), "action": _stats(23)},
        rel,
        STATE_GROUPS,
        ACTION_GROUPS,
        embodiment,
    )
    (dest / "config.json").write_text(json.dumps(config, indent=2))
    (dest / "statistics.json").write_text(json.dumps(statistics))
    configs = modality_configs if modality_configs is not None else unitree_g1_configs()
    processor = {
        "processor_class": "Gr00tN1d6Processor",
        "processor_kwargs": {"modality_configs": {embodiment: configs}},
        "embodiment_tag": embodiment,
        "action_horizon": 30,
    }
    (dest / "processor_config.json").write_text(json.dumps(processor))
    (dest / "embodiment_id.json").write_text(json.dumps({embodiment: 0}))
    return dest
