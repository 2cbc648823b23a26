"""The training entry module (stand-in of upstream's gr00t/experiment/experiment.py, whose ``run`` the
launcher calls). Like upstream's, importing it loads the training stack at module level (torch here;
upstream also omegaconf, transformers, wandb), so importing it proves the env can train."""

from __future__ import annotations

import torch
import torch.distributed  # noqa: F401

from gr00t.experiment.trainer import run

__all__ = ["run"]
