"""The UNITREE_G1 group layout of the 31-dim state and 23-dim action vectors, as test fixtures write it.

One copy for every fixture that writes a GR00T dataset or model directory. It is deliberately not imported
from the stand-in (whose ``gr00t.data.embodiment`` names the keys but takes the widths from
``meta/modality.json``, like upstream) nor from ``groot_ops.data.schema``: the fixtures are the independent
input both are tested against.
"""

from __future__ import annotations

# group -> (start, end), half-open, in the order of the vectors.
STATE_GROUPS: dict[str, tuple[int, int]] = {
    "left_leg": (0, 6),
    "right_leg": (6, 12),
    "waist": (12, 15),
    "left_arm": (15, 22),
    "right_arm": (22, 29),
    "left_hand": (29, 30),
    "right_hand": (30, 31),
}
ACTION_GROUPS: dict[str, tuple[int, int]] = {
    "left_arm": (0, 7),
    "right_arm": (7, 14),
    "left_hand": (14, 15),
    "right_hand": (15, 16),
    "waist": (16, 19),
    "base_height_command": (19, 20),
    "navigate_command": (20, 23),
}
