"""Stand-in of gr00t/data/embodiment_tags.py (the enum itself lives with the finetune config)."""

from gr00t.configs.finetune_config import EmbodimentTag

__all__ = ["EmbodimentTag"]
