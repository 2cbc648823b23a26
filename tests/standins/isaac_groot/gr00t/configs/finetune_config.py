"""The fine-tuning configuration of n1.6.1 (stand-in of gr00t/configs/finetune_config.py FinetuneConfig).

Same field names, types and defaults as upstream's dataclass, which tyro turns into launch_finetune.py's
flags; ``tests/fixtures/upstream/train/fields.json`` (recorded from upstream) holds this to it in CI.
"""

from __future__ import annotations

from dataclasses import dataclass

from gr00t.data.embodiment_tags import EmbodimentTag


@dataclass
class FinetuneConfig:
    base_model_path: str
    dataset_path: str
    embodiment_tag: EmbodimentTag
    modality_config_path: str | None = None
    tune_llm: bool = False
    tune_visual: bool = False
    tune_projector: bool = True
    tune_diffusion_model: bool = True
    state_dropout_prob: float = 0.0
    random_rotation_angle: int | None = None
    color_jitter_params: dict[str, float] | None = None
    extra_augmentation_config: str | None = None
    global_batch_size: int = 64
    dataloader_num_workers: int = 2
    learning_rate: float = 1e-4
    gradient_accumulation_steps: int = 1
    output_dir: str = "./outputs"
    experiment_name: str | None = None
    wandb_project: str = "finetune-gr00t-n1d6"
    save_steps: int = 1000
    save_total_limit: int = 5
    num_gpus: int = 1
    use_wandb: bool = False
    max_steps: int = 10000
    weight_decay: float = 1e-5
    warmup_ratio: float = 0.05
    shard_size: int = 2**10
    episode_sampling_rate: float = 0.1
    num_shards_per_epoch: int = int(1e5)
