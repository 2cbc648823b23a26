"""The modality config registry (stand-in of gr00t/configs/data/embodiment_configs.py).

UNITREE_G1 is built in; a ``--modality_config_path`` file registers NEW_EMBODIMENT when it is imported.
"""

from __future__ import annotations

from gr00t.data import embodiment as g1
from gr00t.data.embodiment_tags import EmbodimentTag
from gr00t.data.types import ActionConfig, ActionFormat, ActionRepresentation, ActionType, ModalityConfig


def _action(key: str) -> ActionConfig:
    rep = ActionRepresentation.RELATIVE if key in g1.RELATIVE_ACTION_KEYS else ActionRepresentation.ABSOLUTE
    return ActionConfig(rep=rep, type=ActionType.NON_EEF, format=ActionFormat.DEFAULT)


MODALITY_CONFIGS: dict[str, dict[str, ModalityConfig]] = {
    "unitree_g1": {
        "video": ModalityConfig(delta_indices=[0], modality_keys=list(g1.VIDEO_KEYS)),
        "state": ModalityConfig(delta_indices=[0], modality_keys=list(g1.STATE_KEYS)),
        "action": ModalityConfig(
            delta_indices=list(range(g1.ACTION_HORIZON)),
            modality_keys=list(g1.ACTION_KEYS),
            action_configs=[_action(k) for k in g1.ACTION_KEYS],
        ),
        "language": ModalityConfig(delta_indices=[0], modality_keys=[g1.LANGUAGE_KEY]),
    }
}


def register_modality_config(
    config: dict, embodiment_tag: EmbodimentTag = EmbodimentTag.NEW_EMBODIMENT
) -> None:
    # gr00t/configs/data/embodiment_configs.py register_modality_config: a tag registers once.
    assert embodiment_tag.value not in MODALITY_CONFIGS, f"Embodiment tag {embodiment_tag} already registered"
    MODALITY_CONFIGS[embodiment_tag.value] = config
