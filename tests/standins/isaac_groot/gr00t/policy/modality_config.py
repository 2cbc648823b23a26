"""ModalityConfig as the server sends it; the configs a checkpoint serves, read from processor_config.json."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gr00t.data.embodiment import (
    ACTION_HORIZON,
    ACTION_KEYS,
    LANGUAGE_KEY,
    RELATIVE_ACTION_KEYS,
    STATE_KEYS,
    VIDEO_KEYS,
)

ACTION_CONFIG_FIELDS = ("rep", "type", "format", "state_key")
REPRESENTATIONS = ("RELATIVE", "DELTA", "ABSOLUTE")
ACTION_TYPES = ("EEF", "NON_EEF")
ACTION_FORMATS = ("DEFAULT", "XYZ_ROT6D", "XYZ_ROTVEC")


# Mirrors gr00t/data/types.py ModalityConfig (fields in declaration order; action configs parsed by name).
@dataclass
class ModalityConfig:
    delta_indices: list[int]
    modality_keys: list[str]
    sin_cos_embedding_keys: list[str] | None = None
    mean_std_embedding_keys: list[str] | None = None
    action_configs: list[dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        # Mirrors gr00t/data/types.py ModalityConfig.__post_init__: one action config per key.
        if self.action_configs is not None:
            assert len(self.action_configs) == len(self.modality_keys), (
                f"Number of action configs ({len(self.action_configs)}) must match number of modality "
                f"keys ({len(self.modality_keys)})"
            )
            for config in self.action_configs:
                if config["rep"] not in REPRESENTATIONS:
                    raise KeyError(config["rep"])
                if config["type"] not in ACTION_TYPES:
                    raise KeyError(config["type"])
                if config["format"] not in ACTION_FORMATS:
                    raise KeyError(config["format"])

    def as_json(self) -> dict[str, Any]:
        # Mirrors gr00t/data/utils.py to_json_serializable(dataclass): asdict order, enums by name.
        return {
            "delta_indices": list(self.delta_indices),
            "modality_keys": list(self.modality_keys),
            "sin_cos_embedding_keys": self.sin_cos_embedding_keys,
            "mean_std_embedding_keys": self.mean_std_embedding_keys,
            "action_configs": (
                None
                if self.action_configs is None
                else [{f: c.get(f) for f in ACTION_CONFIG_FIELDS} for c in self.action_configs]
            ),
        }


def unitree_g1_modality_configs() -> dict[str, ModalityConfig]:
    # Mirrors gr00t/configs/data/embodiment_configs.py MODALITY_CONFIGS["unitree_g1"]: arms RELATIVE,
    # every other action group ABSOLUTE, all NON_EEF / DEFAULT.
    action_configs = [
        {
            "rep": "RELATIVE" if key in RELATIVE_ACTION_KEYS else "ABSOLUTE",
            "type": "NON_EEF",
            "format": "DEFAULT",
            "state_key": None,
        }
        for key in ACTION_KEYS
    ]
    return {
        "video": ModalityConfig(delta_indices=[0], modality_keys=list(VIDEO_KEYS)),
        "state": ModalityConfig(delta_indices=[0], modality_keys=list(STATE_KEYS)),
        "action": ModalityConfig(
            delta_indices=list(range(ACTION_HORIZON)),
            modality_keys=list(ACTION_KEYS),
            action_configs=action_configs,
        ),
        "language": ModalityConfig(delta_indices=[0], modality_keys=[LANGUAGE_KEY]),
    }


def served_modality_configs(processor_config: dict[str, Any], tag: str) -> dict[str, ModalityConfig]:
    """The configs a checkpoint serves for ``tag``: ``processor_kwargs.modality_configs[tag]``.

    Mirrors Gr00tN1d6Processor.from_pretrained (``config["processor_kwargs"]``, its modality configs
    parsed by gr00t/data/utils.py parse_modality_configs into ModalityConfig(**dict)) and
    Gr00tPolicy.__init__'s ``get_modality_configs()[tag]``: a missing tag is a KeyError naming it.
    """
    configs = processor_config["processor_kwargs"]["modality_configs"]
    return {modality: ModalityConfig(**config) for modality, config in configs[tag].items()}
