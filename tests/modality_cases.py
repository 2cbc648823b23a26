"""NEW_EMBODIMENT modality-config cases on a UNITREE_G1-layout dataset, shared by the upstream recorder
(tests/conformance/recorders/modality_config.py), the stand-in's tests and groot_ops' checker tests.

Each case is the small lab config (inventory/modality_configs/lab/lab_g1_arms.py) with one edit; the
verdicts upstream's trainer gives on them are recorded in tests/fixtures/upstream/modality_config/.
"""

from __future__ import annotations

import json
from pathlib import Path

CONFIG = Path(__file__).resolve().parents[1] / "inventory" / "modality_configs" / "lab" / "lab_g1_arms.py"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "upstream" / "modality_config" / "verdicts.json"
_STATE = 'modality_keys=["left_arm", "right_arm", "left_hand", "right_hand"]\n    ),\n    "action"'
_ACTION = 'modality_keys=["left_arm", "right_arm", "left_hand", "right_hand"],\n        action_configs'
# name -> (old, new): one edit of the lab config.
EDITS: dict[str, tuple[str, str]] = {
    "match": ("", ""),
    "missing_state": (_STATE, _STATE.replace('"right_hand"]', '"right_hand", "neck"]')),
    "missing_action_absolute": (_ACTION, _ACTION.replace('"right_hand"]', '"gripper"]')),
    "missing_video": ('["ego_view"]', '["rs_view"]'),
    "missing_language": ("annotation.human.task_description", "annotation.human.action.task_description"),
    # The first ActionConfig is left_arm's (RELATIVE): its state becomes the 1-wide left_hand.
    "relative_width_mismatch": (
        "format=ActionFormat.DEFAULT\n",
        'format=ActionFormat.DEFAULT, state_key="left_hand"\n',
    ),
}
# The key each mismatching case names (what our checker's one line must say).
KEYS = {
    "missing_state": "neck",
    "missing_action_absolute": "gripper",
    "missing_video": "rs_view",
    "missing_language": "annotation.human.action.task_description",
    "relative_width_mismatch": "left_arm",
}


def config_text(name: str) -> str:
    text = CONFIG.read_text()
    old, new = EDITS[name]
    if old:
        assert old in text, name
        text = text.replace(old, new, 1)
    return text


def write_config(directory: Path, name: str) -> Path:
    """The case's config as ``emb_<name>.py`` (a distinct module name: upstream imports it by stem)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"emb_{name}.py"
    path.write_text(config_text(name))
    return path


def recorded() -> dict:
    return json.loads(FIXTURE.read_text())["cases"]
