"""The UNITREE_G1 embodiment as n1.6.1 defines it: modality keys in model order and the action horizon."""

from __future__ import annotations

EMBODIMENT_TAGS = {"UNITREE_G1": "unitree_g1"}

STATE_KEYS = ("left_leg", "right_leg", "waist", "left_arm", "right_arm", "left_hand", "right_hand")
ACTION_KEYS = (
    "left_arm",
    "right_arm",
    "left_hand",
    "right_hand",
    "waist",
    "base_height_command",
    "navigate_command",
)
# Arm actions are learned relative to the arm state of the current step; the rest stay absolute.
RELATIVE_ACTION_KEYS = ("left_arm", "right_arm")
VIDEO_KEYS = ("ego_view",)
LANGUAGE_KEY = "annotation.human.task_description"
ACTION_HORIZON = 30
STATE_COLUMN = "observation.state"
ACTION_COLUMN = "action"


def modality_config() -> dict:
    """What ``get_modality_config`` answers (widths are filled in from the model's modality.json)."""
    return {
        "video": {"delta_indices": [0], "modality_keys": list(VIDEO_KEYS)},
        "state": {"delta_indices": [0], "modality_keys": list(STATE_KEYS)},
        "action": {"delta_indices": list(range(ACTION_HORIZON)), "modality_keys": list(ACTION_KEYS)},
        "language": {"delta_indices": [0], "modality_keys": [LANGUAGE_KEY]},
    }
