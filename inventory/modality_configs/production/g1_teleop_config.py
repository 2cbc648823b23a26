# RECONSTRUCTION of the lost g1_teleop_config.py (legacy model C, datamentorshf/groot-g1-teleop), for
# nvidia/PhysicalAI-Robotics-GR00T-Teleop-G1 subset g1-pick-apple (311 real-robot teleop episodes,
# Unitree G1 with Dex3 tri-finger hands). Nobody here could read that dataset's meta/modality.json (no
# network); the keys follow what is published about it: Isaac-GR00T N1.5's unitree_g1 data config
# (video rs_view; state and action left_arm, right_arm, left_hand, right_hand; language
# annotation.human.task_description). ASSUMED, to be confirmed by the first launch, which checks this file
# against the downloaded meta/modality.json and refuses any key or width that differs:
#   - 7 joints per arm and 7 per Dex3 hand (GROOT_OPS_WIDTHS below);
#   - arms RELATIVE and hands ABSOLUTE, as n1.6.1's own UNITREE_G1 config treats arms and hands;
#   - a 16-step action horizon, as upstream's NEW_EMBODIMENT example (examples/SO100/so100_config.py).
# The original training used n1.6's launch_finetune.py with --embodiment_tag NEW_EMBODIMENT, so the file
# has upstream's format: a dict of ModalityConfig registered under NEW_EMBODIMENT on import.
from gr00t.configs.data.embodiment_configs import register_modality_config
from gr00t.data.embodiment_tags import EmbodimentTag
from gr00t.data.types import ActionConfig, ActionFormat, ActionRepresentation, ActionType, ModalityConfig

# groot-ops only (upstream never reads it): the group widths this reconstruction assumes.
GROOT_OPS_WIDTHS = {
    "state": {"left_arm": 7, "right_arm": 7, "left_hand": 7, "right_hand": 7},
    "action": {"left_arm": 7, "right_arm": 7, "left_hand": 7, "right_hand": 7},
}

g1_teleop_config = {
    "video": ModalityConfig(delta_indices=[0], modality_keys=["rs_view"]),
    "state": ModalityConfig(
        delta_indices=[0],
        modality_keys=["left_arm", "right_arm", "left_hand", "right_hand"],
    ),
    "action": ModalityConfig(
        delta_indices=list(range(16)),
        modality_keys=["left_arm", "right_arm", "left_hand", "right_hand"],
        action_configs=[
            # left_arm
            ActionConfig(
                rep=ActionRepresentation.RELATIVE, type=ActionType.NON_EEF, format=ActionFormat.DEFAULT
            ),
            # right_arm
            ActionConfig(
                rep=ActionRepresentation.RELATIVE, type=ActionType.NON_EEF, format=ActionFormat.DEFAULT
            ),
            # left_hand
            ActionConfig(
                rep=ActionRepresentation.ABSOLUTE, type=ActionType.NON_EEF, format=ActionFormat.DEFAULT
            ),
            # right_hand
            ActionConfig(
                rep=ActionRepresentation.ABSOLUTE, type=ActionType.NON_EEF, format=ActionFormat.DEFAULT
            ),
        ],
    ),
    "language": ModalityConfig(delta_indices=[0], modality_keys=["annotation.human.task_description"]),
}

register_modality_config(g1_teleop_config, embodiment_tag=EmbodimentTag.NEW_EMBODIMENT)
