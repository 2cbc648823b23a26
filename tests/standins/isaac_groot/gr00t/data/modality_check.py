"""A registered (NEW_EMBODIMENT) modality config against a dataset's meta/modality.json, failing where and
as upstream fails, in upstream's order (recorded: tests/fixtures/upstream/modality_config/verdicts.json).
"""

from __future__ import annotations

from pathlib import Path

from gr00t.data.dataset import read_json
from gr00t.data.types import ActionRepresentation, ModalityConfig


def _relative(configs: dict[str, ModalityConfig], modality: dict, done: set[str]) -> None:
    # gr00t/data/stats.py RelativeActionLoader + load_relative_actions (generate_rel_stats, rank 0), only
    # for the RELATIVE keys relative_stats.json does not hold yet (the others are skipped unread).
    action, state = configs["action"], configs["state"]
    for key, spec in zip(action.modality_keys, action.action_configs or [], strict=False):
        if spec.rep is not ActionRepresentation.RELATIVE or key in done:
            continue
        state_key = spec.state_key or key
        assert state_key in state.modality_keys
        assert state.delta_indices[-1] == action.delta_indices[0]
        # _extract_joint_groups skips an unknown group with a warning; the column lookup then fails.
        if key not in modality.get("action", {}):
            raise KeyError(f"action.{key}")
        if state_key not in modality.get("state", {}):
            raise KeyError(f"state.{state_key}")
        a, s = modality["action"][key], modality["state"][state_key]
        a_width, s_width = a["end"] - a["start"], s["end"] - s["start"]
        if a_width != s_width:
            # gr00t/data/state_action/pose.py JointActionChunk.relative_chunking
            raise ValueError(
                f"Cannot compute relative joint pose: joint dimensions don't match ({a_width} vs {s_width})"
            )


def _video(configs: dict[str, ModalityConfig], modality: dict) -> None:
    # lerobot_episode_loader.py _parse_and_validate_modality_configs (ShardedSingleStepDataset).
    if "video" in configs and "video" in modality:
        config_keys = set(configs["video"].modality_keys)
        meta_keys = set(modality["video"].keys())
        missing = config_keys - meta_keys
        if missing:
            raise ValueError(
                f"Video modality_keys {sorted(missing)} in modality_config not found in modality.json. "
                f"modality_config expects: {sorted(config_keys)}, "
                f"modality.json defines: {sorted(meta_keys)}. "
                "Please ensure modality.json and your modality_config use the same video key names."
            )


def _statistics(configs: dict[str, ModalityConfig], modality: dict) -> None:
    # lerobot_episode_loader.py get_dataset_statistics: self.modality_meta[modality][joint_key].
    for kind in ("state", "action"):
        for key in configs[kind].modality_keys:
            if key not in modality[kind]:
                raise KeyError(key)


def _language(configs: dict[str, ModalityConfig], modality: dict) -> None:
    # lerobot_episode_loader.py _load_parquet_data (the first step read by the trainer).
    for key in configs.get("language", ModalityConfig([0], [])).modality_keys:
        subkey = key.replace("annotation.", "")
        assert subkey in modality.get("annotation", {}), f"Key {subkey} not found in language modality"


def check_rel_stats_stage(root: Path, configs: dict[str, ModalityConfig]) -> None:
    rel_stats = root / "meta" / "relative_stats.json"
    done = set(read_json(rel_stats)) if rel_stats.is_file() else set()
    _relative(configs, read_json(root / "meta" / "modality.json"), done)


def check_dataset_stages(root: Path, configs: dict[str, ModalityConfig]) -> None:
    modality = read_json(root / "meta" / "modality.json")
    _video(configs, modality)
    _statistics(configs, modality)
    _language(configs, modality)
