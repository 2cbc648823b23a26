"""The training loop: a real torch policy trained under torchrun (DDP over gloo on CPU), driven the way
n1.6.1's ``Gr00tTrainer`` (gr00t/experiment/trainer.py) drives transformers 4.51.3's ``Trainer``.

What groot-ops reads from it is upstream's: the resume rule, the progress bar (total = max_steps) and the
log dicts it writes, the NaN filter of the logged loss, when checkpoints are saved, the order of the files
in a save, the rotation and the final save of the weights.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gr00t.configs.data.embodiment_configs import MODALITY_CONFIGS
from gr00t.configs.finetune_config import FinetuneConfig
from gr00t.data.normalization import Normalizer, build_statistics
from gr00t.data.stats import load_stats
from gr00t.data.types import to_json_serializable
from gr00t.experiment import checkpointing, faults
from gr00t.experiment.utils import CheckpointFormatCallback
from gr00t.model.policy import build_torch_policy, model_config
from gr00t.utils.safetensors_io import load_sharded

SEED = 42
LOGGING_STEPS = 10  # gr00t/configs/training/training_config.py TrainingConfig.logging_steps
MAX_GRAD_NORM = 1.0


@dataclass
class TrainingSetup:
    config: FinetuneConfig
    dataset: object
    output_dir: Path
    model_config: dict
    normalizer: Normalizer
    run_info: dict

    @classmethod
    def build(cls, config: FinetuneConfig, dataset, output_dir: Path) -> TrainingSetup:
        embodiment = config.embodiment_tag.value
        stats, rel_stats = load_stats(dataset)
        statistics = build_statistics(
            stats, rel_stats, dataset.state_ranges(), dataset.action_ranges(), embodiment
        )
        tasks = [dataset.tasks[i] for i in sorted(dataset.tasks)]
        mconfig = model_config(
            state_dim=dataset.state.shape[1],
            action_dim=dataset.action.shape[1],
            tasks=tasks,
            base_model=config.base_model_path,
        )
        run_info = {
            "args": {k: getattr(v, "name", v) for k, v in vars(config).items()},
            "embodiment": embodiment,
            "model_config": mconfig,
            "statistics": statistics,
            "processor_config": {
                # Mirrors Gr00tN1d6Processor.save_pretrained: the modality configs the processor was built
                # with (the --modality_config_path registration for NEW_EMBODIMENT), which the server's
                # processor.get_modality_configs()[tag] serves. Upstream's also hold the base model's tags.
                "processor_class": "Gr00tN1d6Processor",
                "processor_kwargs": {
                    "modality_configs": {embodiment: to_json_serializable(MODALITY_CONFIGS[embodiment])},
                },
                "embodiment_tag": embodiment,
                "modality": dataset.modality,
                "action_horizon": mconfig["action_horizon"],
                "color_jitter_params": config.color_jitter_params,
            },
        }
        return cls(config, dataset, output_dir, mconfig, Normalizer(statistics[embodiment]), run_info)


def get_last_checkpoint(output_dir: Path) -> Path | None:
    """transformers.trainer_utils.get_last_checkpoint: the highest checkpoint-N directory, unchecked."""
    found = checkpointing.checkpoints(output_dir)
    return found[-1][1] if found else None


def _cosine_with_warmup(warmup: int, total: int):
    def factor(step: int) -> float:
        if step < warmup:
            return step / max(1, warmup)
        progress = (step - warmup) / max(1, total - warmup)
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))

    return factor


def _warm_start_weights(base: str, config: dict) -> dict | None:
    """A local fine-tuned checkpoint as the base: its weights, when they fit this model (warm start)."""
    path = Path(base)
    if not (path / "model.safetensors.index.json").is_file():
        return None
    weights = load_sharded(path)
    if weights.get("task_embedding.weight", np.empty(0)).shape[0] != len(config["task_vocab"]):
        logging.info(f"Base model {base}: task vocabulary differs, starting the task embedding fresh")
        weights.pop("task_embedding.weight", None)
    return weights


class Gr00tTrainer:
    def __init__(self, setup: TrainingSetup, *, rank: int, world_size: int, barrier) -> None:
        import torch

        self.setup, self.rank, self.world_size, self.barrier = setup, rank, world_size, barrier
        cfg = setup.config
        random.seed(SEED)
        np.random.seed(SEED)
        torch.manual_seed(SEED)
        self.model = build_torch_policy(setup.model_config)
        warm = _warm_start_weights(cfg.base_model_path, setup.model_config)
        if warm:
            self.model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in warm.items()}, strict=False)
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay
        )
        warmup = math.ceil(cfg.warmup_ratio * cfg.max_steps)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, _cosine_with_warmup(warmup, cfg.max_steps)
        )
        self.callback = CheckpointFormatCallback(
            exp_cfg_dir=setup.output_dir / "experiment_cfg", processor_dir=setup.output_dir / "processor"
        )
        self.global_step = 0
        self.log_history: list[dict] = []

    # -- resume -----------------------------------------------------------------------------
    def _resume(self) -> None:
        import torch

        checkpoint = get_last_checkpoint(self.setup.output_dir)
        if checkpoint is None:
            # gr00t/experiment/trainer.py Gr00tTrainer.train: a warning, then training from step 0.
            logging.warning(f"No valid checkpoint found in output directory ({self.setup.output_dir})")
            return
        logging.info(f"Resuming from checkpoint {checkpoint}")
        # Gr00tTrainer.train: TrainerState.load_from_json of the newest checkpoint (FileNotFoundError when
        # the save was cut short before trainer_state.json); then Trainer._load_from_checkpoint.
        with open(checkpoint / "trainer_state.json", encoding="utf-8") as handle:
            state = json.load(handle)
        if not (checkpoint / "model.safetensors.index.json").is_file():
            raise ValueError(f"Can't find a valid checkpoint at {checkpoint}")
        weights = load_sharded(checkpoint)
        self.model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in weights.items()})
        loaded = checkpointing.load_rank_state(
            checkpoint, int(state["global_step"]), rank=self.rank, world_size=self.world_size
        )
        # Trainer._load_optimizer_and_scheduler: a missing optimizer.pt is silently a fresh optimizer.
        if loaded["optimizer"] is not None:
            self.optimizer.load_state_dict(loaded["optimizer"])
        if (checkpoint / "scheduler.pt").is_file():
            self.scheduler.load_state_dict(torch.load(checkpoint / "scheduler.pt", weights_only=False))
        if loaded["rng"] is not None:
            random.setstate(loaded["rng"]["python"])
            np.random.set_state(loaded["rng"]["numpy"])
            torch.set_rng_state(loaded["rng"]["cpu"])
        self.global_step = int(state["global_step"])
        self.log_history = list(state.get("log_history", []))

    # -- the loop -----------------------------------------------------------------------------
    def _step_loss(self, ddp, step: int) -> float:
        import torch

        cfg, data = self.setup.config, self.setup.dataset
        per_device = max(1, cfg.global_batch_size // (cfg.num_gpus * cfg.gradient_accumulation_steps))
        total = 0.0
        for micro in range(cfg.gradient_accumulation_steps):
            # Batches are a pure function of (seed, step): a resumed run sees what an uninterrupted one would.
            picker = np.random.default_rng([SEED, step, micro])
            rows = picker.integers(0, data.frames, per_device * self.world_size)[
                self.rank * per_device : (self.rank + 1) * per_device
            ]
            state_np = data.state[rows]
            target = self.setup.normalizer.action_targets(data.action_chunks(rows), state_np)
            prediction = ddp(
                torch.from_numpy(self.setup.normalizer.state(state_np)),
                torch.from_numpy(data.task_index[rows]),
            )
            loss = torch.nn.functional.mse_loss(prediction, torch.from_numpy(target))
            if faults.nan_loss(step):
                loss = loss * float("nan")
            (loss / cfg.gradient_accumulation_steps).backward()
            total += loss.item() / cfg.gradient_accumulation_steps
        return total

    def train(self, resume_from_checkpoint: bool = True) -> None:
        import torch
        import torch.distributed as dist
        from tqdm import tqdm

        if resume_from_checkpoint:
            self._resume()
        cfg = self.setup.config
        ddp = torch.nn.parallel.DistributedDataParallel(self.model) if self.world_size > 1 else self.model
        # Gr00tTrainer.get_train_dataloader prints these on every rank.
        print(f"Current global step: {self.global_step}", flush=True)
        print("Creating custom train dataloader", flush=True)
        # transformers ProgressCallback.on_train_begin: tqdm(total=state.max_steps) on the main process.
        bar = tqdm(total=cfg.max_steps, dynamic_ncols=True) if self.rank == 0 else None
        if bar is not None:
            bar.update(self.global_step)
        faults.check_step(0, self.rank)
        started, done_here = time.monotonic(), 0
        tr_loss, last_logged, total_loss = 0.0, self.global_step, 0.0
        while self.global_step < cfg.max_steps:
            step = self.global_step + 1
            step_loss = self._step_loss(ddp, step)
            grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), MAX_GRAD_NORM))
            self.optimizer.step()
            self.scheduler.step()
            self.optimizer.zero_grad()
            faults.step_sleep()
            if self.world_size > 1:
                reduced = torch.tensor([step_loss])
                dist.all_reduce(reduced)
                step_loss = reduced.item() / self.world_size
            # Trainer._inner_training_loop, logging_nan_inf_filter (on by default): a NaN/inf step loss adds
            # the average of the window so far instead, so a diverged run logs a finite loss (0.0 once every
            # step of a window is NaN) while grad_norm shows nan.
            if math.isnan(step_loss) or math.isinf(step_loss):
                tr_loss += tr_loss / (1 + step - 1 - last_logged)
            else:
                tr_loss += step_loss
            self.global_step = step
            done_here += 1
            if bar is not None:
                bar.update(1)
            # DefaultFlowCallback.on_step_end: log every logging_steps; save every save_steps and at the end.
            if step % LOGGING_STEPS == 0:
                logs = {
                    "loss": round(tr_loss / (step - last_logged), 4),
                    "grad_norm": grad_norm,
                    "learning_rate": self.scheduler.get_last_lr()[0],
                }
                total_loss += tr_loss
                tr_loss, last_logged = 0.0, step
                self._log(logs, bar)
            faults.check_step(step, self.rank)
            if step % cfg.save_steps == 0 or step == cfg.max_steps:
                self._save_checkpoint(step)
        total_loss += tr_loss
        if bar is not None:
            runtime = time.monotonic() - started
            # Trainer.train's closing metrics (no epoch: Gr00tTrainer.log hides it).
            self._log(
                {
                    "train_runtime": round(runtime, 4),
                    "train_samples_per_second": round(
                        done_here * cfg.global_batch_size / max(runtime, 1e-9), 3
                    ),
                    "train_steps_per_second": round(done_here / max(runtime, 1e-9), 3),
                    "train_loss": total_loss / max(1, done_here),
                },
                bar,
            )
            bar.close()

    def _log(self, logs: dict, bar) -> None:
        # Trainer.log appends {**logs, "step"} to log_history; ProgressCallback.on_log writes str(logs)
        # through tqdm.write (stdout) on the main process. Gr00tTrainer.log drops "epoch".
        self.log_history.append({**logs, "step": self.global_step})
        if bar is not None:
            bar.write(str(logs))

    def _trainer_state(self, step: int) -> dict:
        cfg = self.setup.config
        return {
            "best_global_step": None,
            "best_metric": None,
            "best_model_checkpoint": None,
            "epoch": step * cfg.global_batch_size / self.setup.dataset.frames,
            "eval_steps": 500,
            "global_step": step,
            "is_hyper_param_search": False,
            "is_local_process_zero": True,
            "is_world_process_zero": True,
            "log_history": list(self.log_history),
            "logging_steps": LOGGING_STEPS,
            "max_steps": cfg.max_steps,
            "num_input_tokens_seen": 0,
            "num_train_epochs": 1,
            "save_steps": cfg.save_steps,
            "stateful_callbacks": {},
            "total_flos": 0.0,
            "train_batch_size": cfg.global_batch_size // cfg.num_gpus,
            "trial_name": None,
            "trial_params": None,
        }

    def _weights(self) -> dict[str, np.ndarray]:
        return {k: v.detach().cpu().numpy().astype(np.float32) for k, v in self.model.state_dict().items()}

    def _save_checkpoint(self, step: int) -> None:
        import torch

        state = {
            "weights": self._weights(),
            "model_config": self.setup.model_config,
            "args": self.setup.run_info["args"],
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "rng": {
                "python": random.getstate(),
                "numpy": np.random.get_state(),
                "cpu": torch.get_rng_state(),
            },
            "trainer_state": self._trainer_state(step),
        }
        output_dir = self.setup.output_dir
        checkpointing.save_checkpoint(
            output_dir, step, state, rank=self.rank, world_size=self.world_size, barrier=self.barrier
        )
        if self.rank == 0:
            # Trainer._save_checkpoint rotates right after trainer_state.json (args.should_save: rank 0 only).
            checkpointing.rotate(output_dir, self.setup.config.save_total_limit)
            if faults.crash_before_processor_copy(step):
                print("GROOT_STANDIN_CRASH_BEFORE_PROCESSOR_COPY: dying after trainer_state.json", flush=True)
                import os

                os._exit(1)
            # Then CallbackHandler.on_save: CheckpointFormatCallback copies the processor files in.
            self.callback.on_save(output_dir, step, is_world_process_zero=True)
        self.barrier()

    def save_model(self) -> None:
        """Trainer.save_model(): weights, config.json and training_args.bin at output_dir (rank 0)."""
        if self.rank == 0:
            checkpointing.write_weights(
                self.setup.output_dir, self._weights(), self.setup.model_config, self.setup.run_info["args"]
            )
