"""Checkpoint formatting after a save (stand-in of gr00t/experiment/utils.py CheckpointFormatCallback)."""

from __future__ import annotations

import shutil
from pathlib import Path


class CheckpointFormatCallback:
    """Copies the run's config and processor files into checkpoint-N once the trainer saved it."""

    def __init__(self, exp_cfg_dir: Path, processor_dir: Path) -> None:
        self.exp_cfg_dir = exp_cfg_dir
        self.processor_dir = processor_dir

    def on_save(self, output_dir: Path, global_step: int, *, is_world_process_zero: bool) -> None:
        # gr00t/experiment/utils.py CheckpointFormatCallback.on_save: rank 0, after trainer_state.json (and
        # the rotation); experiment_cfg/, then the processor files, then wandb_config.json, each announced.
        if not is_world_process_zero:
            return
        checkpoint_dir = output_dir / f"checkpoint-{global_step}"
        if self.exp_cfg_dir.exists():
            destination = checkpoint_dir / self.exp_cfg_dir.name
            print(f"Copying experiment config directory {self.exp_cfg_dir} to {destination}", flush=True)
            shutil.copytree(self.exp_cfg_dir, destination, dirs_exist_ok=True)
        if self.processor_dir.exists():
            print(f"Copying processor directory {self.processor_dir} to {checkpoint_dir}", flush=True)
            shutil.copytree(self.processor_dir, checkpoint_dir, dirs_exist_ok=True)
        wandb_src = output_dir / "wandb_config.json"
        if wandb_src.exists():
            wandb_dst = checkpoint_dir / "wandb_config.json"
            print(f"Copying wandb_config.json from {wandb_src} to {wandb_dst}", flush=True)
            shutil.copy2(wandb_src, wandb_dst)
