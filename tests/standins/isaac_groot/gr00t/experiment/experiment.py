"""The training run (stand-in of gr00t/experiment/experiment.py ``run``): logging, output layout, the model
and dataset set-up with their progress bars, the trainer, and the final save of the weights.

Only the model is small (a torch MLP on CPU, DDP over gloo); what groot-ops reads is upstream's: the log
lines and their levels, the bars, the files and the order they are written in. The recorded upstream
runs under ``tests/fixtures/upstream/train/run/`` hold this to it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

# Module level on purpose, as upstream (which also loads omegaconf, transformers, wandb here): importing this
# module is the env check's proof that the env can train (roles/groot_env groot_env_import_check).
import torch
import torch.distributed  # noqa: F401

from gr00t.configs.finetune_config import EmbodimentTag, FinetuneConfig
from gr00t.experiment import checkpointing
from gr00t.experiment.trainer import Gr00tTrainer, TrainingSetup

LOG_FORMAT = "%(asctime)s - %(levelname)s - %(message)s"
LOG_DATEFMT = "%m/%d/%Y %H:%M:%S"
# The 3B base model's shard count as transformers reports it while loading (a local base counts its own).
BASE_MODEL_SHARDS = 2


def setup_logging(rank: int) -> None:
    # gr00t/experiment/experiment.py setup_logging: root at INFO with this format, transformers and datasets
    # at WARNING (so HF Trainer's "Saving model checkpoint to ..." never appears), ranks != 0 at WARNING.
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, datefmt=LOG_DATEFMT, force=True)
    logging.getLogger("transformers").setLevel(logging.WARNING)
    logging.getLogger("datasets").setLevel(logging.WARNING)
    if rank != 0:
        logging.getLogger().setLevel(logging.WARNING)


def warn_configs(config: FinetuneConfig) -> None:
    # gr00t/experiment/experiment.py warn_configs: the only check of the batch before training.
    assert config.global_batch_size % config.num_gpus == 0, "global_batch_size must be divisible by num_gpus"


def _write_json(path: Path, payload: object) -> None:
    # Every rank writes these like upstream does; staged so that no rank reads a torn file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def save_config(config: FinetuneConfig, cfg_dir: Path, output_dir: Path, experiment_name: str) -> None:
    # gr00t/experiment/experiment.py run: experiment_cfg/config.yaml and conf.yaml, then wandb_config.json.
    cfg_dir.mkdir(parents=True, exist_ok=True)
    values = {k: (v.name if isinstance(v, EmbodimentTag) else v) for k, v in vars(config).items()}
    for name in ("config.yaml", "conf.yaml"):
        tmp = cfg_dir / f".{name}.{os.getpid()}.tmp"
        tmp.write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in sorted(values.items())))
        tmp.replace(cfg_dir / name)
    _write_json(
        output_dir / "wandb_config.json", {"project": config.wandb_project, "run_id": experiment_name}
    )


def _load_base_model(base_model_path: str) -> None:
    """The bar transformers prints while loading the base model's shards (its total is not max_steps)."""
    from tqdm import tqdm

    index = Path(base_model_path) / "model.safetensors.index.json"
    shards = len(checkpointing.index_shard_names(index)) if index.is_file() else BASE_MODEL_SHARDS
    # transformers' PreTrainedModel.from_pretrained (gr00t/model/gr00t_n1d6/setup.py _create_model).
    for _ in tqdm(range(shards), desc="Loading checkpoint shards"):
        time.sleep(0.01)


def _check_stand_in_limits(modality_configs: dict) -> None:
    """What the stand-in's tiny model cannot do (not an upstream rule): it trains on the whole UNITREE_G1
    vectors, so a config must keep the 30-step horizon and relative arms (any subset of groups is fine) and
    the dataset the UNITREE_G1 groups (checked by loading it as such after the upstream-faithful load)."""
    from gr00t.data.embodiment import ACTION_HORIZON, RELATIVE_ACTION_KEYS
    from gr00t.data.types import ActionRepresentation

    action = modality_configs["action"]
    relative = {
        key
        for key, spec in zip(action.modality_keys, action.action_configs or [], strict=False)
        if spec.rep is ActionRepresentation.RELATIVE
    }
    if len(action.delta_indices) != ACTION_HORIZON or relative != set(RELATIVE_ACTION_KEYS):
        raise ValueError(
            f"groot-ops stand-in: only an action horizon of {ACTION_HORIZON} with RELATIVE "
            f"{sorted(RELATIVE_ACTION_KEYS)} is implemented"
        )


def _prepare_dataset(config: FinetuneConfig, *, rank: int, barrier):
    from tqdm import tqdm

    from gr00t.configs.data.embodiment_configs import MODALITY_CONFIGS
    from gr00t.data import modality_check
    from gr00t.data.dataset import load_dataset

    dataset_root = Path(config.dataset_path)
    configs = MODALITY_CONFIGS[config.embodiment_tag.value]
    new_embodiment = config.embodiment_tag is EmbodimentTag.NEW_EMBODIMENT
    loaded = None
    # gr00t/data/dataset/factory.py DatasetFactory.build: one bar over the dataset specs; inside it rank 0
    # generates missing stats and rewrites meta/relative_stats.json at every launch, then all ranks wait.
    for _spec in tqdm([dataset_root], total=1, desc="Initializing datasets"):
        if rank == 0 and new_embodiment:
            # generate_rel_stats(dataset_path, NEW_EMBODIMENT) reads the registered config's RELATIVE keys.
            modality_check.check_rel_stats_stage(dataset_root, configs)
        # LeRobotEpisodeLoader loads the registered config's keys and videos (NEW_EMBODIMENT: its own).
        loaded = load_dataset(dataset_root, configs=configs if new_embodiment else None)
        if rank == 0:
            _rewrite_stats(loaded, config.embodiment_tag)
        barrier()
        if new_embodiment:
            # ShardedSingleStepDataset, get_dataset_statistics and the first step, in that order.
            modality_check.check_dataset_stages(dataset_root, configs)
    if new_embodiment:
        # Loaded, stats written and checked as upstream; only then what the tiny model cannot train.
        _check_stand_in_limits(configs)
        loaded = load_dataset(dataset_root)
    return loaded


def _rewrite_stats(dataset, embodiment_tag: EmbodimentTag) -> None:
    """gr00t.data.stats.generate_stats, then generate_rel_stats(dataset_path, embodiment_tag), as upstream."""
    from gr00t.data import stats

    stats.generate_stats(dataset.root)
    stats.generate_rel_stats(dataset.root, embodiment_tag)


def run(config: FinetuneConfig) -> None:
    warn_configs(config)
    rank, world_size = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    import torch.distributed as dist

    distributed = world_size > 1
    if distributed:
        # Upstream initialises NCCL here; the stand-in trains on CPU over gloo.
        dist.init_process_group("gloo")

    def barrier() -> None:
        if distributed:
            dist.barrier()

    setup_logging(rank)
    from gr00t.configs.data.embodiment_configs import MODALITY_CONFIGS

    # gr00t/configs/base_config.py Config.validate: MODALITY_CONFIGS[tag] (KeyError 'new_embodiment' when
    # no --modality_config_path registered it).
    MODALITY_CONFIGS[config.embodiment_tag.value]
    if config.embodiment_tag not in (EmbodimentTag.UNITREE_G1, EmbodimentTag.NEW_EMBODIMENT):
        raise ValueError(f"groot-ops stand-in: {config.embodiment_tag.name} is not implemented")
    # gr00t/experiment/experiment.py run: --experiment_name appends a sub-directory.
    if config.experiment_name is None:
        output_dir = Path(config.output_dir)
        experiment_name = output_dir.name
    else:
        output_dir = Path(config.output_dir) / config.experiment_name
        experiment_name = config.experiment_name
    output_dir.mkdir(parents=True, exist_ok=True)
    cfg_dir, processor_dir = output_dir / "experiment_cfg", output_dir / "processor"
    save_config(config, cfg_dir, output_dir, experiment_name)
    logging.info(f"Saved config to {cfg_dir}")

    _load_base_model(config.base_model_path)
    dataset = _prepare_dataset(config, rank=rank, barrier=barrier)
    setup = TrainingSetup.build(config, dataset, output_dir)
    # The pipeline's own files in experiment_cfg/, then the processor (every rank, like upstream).
    checkpointing.write_pipeline_files(cfg_dir, setup.run_info)
    checkpointing.write_processor(processor_dir, setup.run_info)
    barrier()

    trainer = Gr00tTrainer(setup, rank=rank, world_size=world_size, barrier=barrier)
    logging.info("🚀 Starting training...")
    trainer.train(resume_from_checkpoint=True)
    # trainer.save_model(): the final weights at the output_dir root (no processor files, no trainer state).
    trainer.save_model()
    logging.info(f"Model saved to {output_dir}")
    barrier()
    if distributed:
        dist.destroy_process_group()
    logging.info("Training completed!")
    sys.stdout.flush()
