"""Modality config types (stand-in of gr00t/data/types.py): what a --modality_config_path file imports."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ActionRepresentation(enum.Enum):
    RELATIVE = "relative"
    DELTA = "delta"
    ABSOLUTE = "absolute"


class ActionType(enum.Enum):
    EEF = "eef"
    NON_EEF = "non_eef"


class ActionFormat(enum.Enum):
    DEFAULT = "default"
    XYZ_ROT6D = "xyz+rot6d"
    XYZ_ROTVEC = "xyz+rotvec"


@dataclass
class ActionConfig:
    rep: ActionRepresentation
    type: ActionType
    format: ActionFormat
    state_key: str | None = None


@dataclass
class ModalityConfig:
    delta_indices: list[int]
    modality_keys: list[str]
    sin_cos_embedding_keys: list[str] | None = None
    mean_std_embedding_keys: list[str] | None = None
    action_configs: list[ActionConfig] | None = None

    def __post_init__(self) -> None:
        # gr00t/data/types.py ModalityConfig.__post_init__: one action config per key; dicts are parsed.
        if self.action_configs is not None:
            assert len(self.action_configs) == len(self.modality_keys), (
                f"Number of action configs ({len(self.action_configs)}) must match number of modality keys "
                f"({len(self.modality_keys)})"
            )
            self.action_configs = [
                ActionConfig(
                    rep=ActionRepresentation[c["rep"]],
                    type=ActionType[c["type"]],
                    format=ActionFormat[c["format"]],
                    state_key=c.get("state_key"),
                )
                if isinstance(c, dict)
                else c
                for c in self.action_configs
            ]


def to_json_serializable(obj: object) -> object:
    # Mirrors gr00t/data/utils.py to_json_serializable: dataclasses as dicts in field order, enums by
    # name; this is how save_pretrained writes processor_kwargs.modality_configs.
    from dataclasses import asdict, is_dataclass

    if is_dataclass(obj) and not isinstance(obj, type):
        return to_json_serializable(asdict(obj))
    if isinstance(obj, dict):
        return {key: to_json_serializable(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_json_serializable(item) for item in obj]
    if isinstance(obj, enum.Enum):
        return obj.name
    return obj
