"""Stand-in of gr00t/data/embodiment_tags.py: the one ``EmbodimentTag`` (standard library only).

Training's ``FinetuneConfig`` and the server's ``ServerConfig`` both import it from here, as upstream's
``finetune_config.py`` and ``run_gr00t_server.py`` do; the torch-free server image imports this module.
"""

from __future__ import annotations

import enum


# Mirrors gr00t/data/embodiment_tags.py EmbodimentTag: member names (what tyro offers as choices) and values.
class EmbodimentTag(enum.Enum):
    ROBOCASA_PANDA_OMRON = "robocasa_panda_omron"
    GR1 = "gr1"
    UNITREE_G1 = "unitree_g1"
    LIBERO_PANDA = "libero_panda"
    OXE_GOOGLE = "oxe_google"
    OXE_WIDOWX = "oxe_widowx"
    OXE_DROID = "oxe_droid"
    BEHAVIOR_R1_PRO = "behavior_r1_pro"
    NEW_EMBODIMENT = "new_embodiment"


__all__ = ["EmbodimentTag"]
