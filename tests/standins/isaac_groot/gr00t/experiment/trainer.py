"""The training loop: a real torch policy trained under torchrun (DDP over gloo on CPU), with the log
lines, checkpoints, rotation and automatic resume of HF Trainer as n1.6.1 drives it."""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

from gr00t.data.dataset import load_dataset
from gr00t.data.embodiment import EMBODIMENT_TAGS
from gr00t.data.normalization import Normalizer, build_statistics
from gr00t.data.stats import generate_rel_stats, generate_stats, load_stats
from gr00t.experiment import checkpointing, faults
from gr00t.model.policy import build_torch_policy, model_config
from gr00t.utils.safetensors_io import load_sharded

SEED = 42
LOGGING_STEPS = 10
MAX_GRAD_NORM = 1.0


def _fmt_time(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def progress_line(step: int, total: int, elapsed: float, done_here: int) -> str:
    rate = done_here / elapsed if elapsed > 0 else 0.0
    left = (total - step) / rate if rate > 0 else 0.0
    pct = int(100 * step / total)
    bar = ("█" * (pct // 10)).ljust(10)
    return f"\r{pct:3d}%|{bar}| {step}/{total} [{_fmt_time(elapsed)}<{_fmt_time(left)}, {rate:5.2f}it/s]"


def _world() -> tuple[int, int]:
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


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
        print(f"Base model {base}: task vocabulary differs, starting the task embedding fresh", flush=True)
        weights.pop("task_embedding.weight", None)
    return weights


def run(args: argparse.Namespace) -> int:
    rank, world_size = _world()
    if args.num_gpus != world_size:
        print(
            f"launch_finetune.py: error: argument --num_gpus: {args.num_gpus} does not match the torchrun "
            f"world size WORLD_SIZE={world_size} (--num_gpus is the total GPU count of all nodes)",
            file=sys.stderr,
        )
        return 2
    # Data problems surface before torch is imported: a bad dataset fails in a second, not after start-up.
    dataset_root = Path(args.dataset_path)
    dataset = load_dataset(dataset_root)

    import torch
    import torch.distributed as dist

    distributed = world_size > 1
    if distributed:
        dist.init_process_group("gloo")

    def barrier() -> None:
        if distributed:
            dist.barrier()

    def log(message: str) -> None:
        if rank == 0:
            print(message, flush=True)

    output_dir = Path(args.output_dir)
    if args.experiment_name:
        output_dir = output_dir / args.experiment_name
    embodiment = EMBODIMENT_TAGS[args.embodiment_tag]
    if rank == 0:
        # gr00t/data/dataset/factory.py DatasetFactory.build: at every launch, on rank 0.
        generate_stats(dataset_root)
        generate_rel_stats(dataset_root, embodiment)
    barrier()
    stats, rel_stats = load_stats(dataset)
    statistics = build_statistics(
        stats, rel_stats, dataset.state_ranges(), dataset.action_ranges(), embodiment
    )
    normalizer = Normalizer(statistics[embodiment])
    tasks = [dataset.tasks[i] for i in sorted(dataset.tasks)]
    config = model_config(
        state_dim=dataset.state.shape[1],
        action_dim=dataset.action.shape[1],
        tasks=tasks,
        base_model=args.base_model_path,
    )
    run_info = {
        "args": vars(args),
        "embodiment": embodiment,
        "model_config": config,
        "statistics": statistics,
        "processor_config": {
            "embodiment_tag": embodiment,
            "modality": dataset.modality,
            "action_horizon": config["action_horizon"],
            "color_jitter_params": args.color_jitter_params,
        },
    }

    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    model = build_torch_policy(config)
    warm = _warm_start_weights(args.base_model_path, config)
    if warm:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in warm.items()}, strict=False)
        log(f"Warm start from {args.base_model_path} (fresh optimizer)")
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=args.weight_decay)
    warmup = math.ceil(args.warmup_ratio * args.max_steps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _cosine_with_warmup(warmup, args.max_steps))

    step, log_history = 0, []
    resume = checkpointing.resume_checkpoint(output_dir)
    if resume is not None:
        state = checkpointing.load_checkpoint(resume, rank=rank, world_size=world_size)
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state["weights"].items()})
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if state["rng"] is not None:
            random.setstate(state["rng"]["python"])
            np.random.set_state(state["rng"]["numpy"])
            torch.set_rng_state(state["rng"]["cpu"])
        step = int(state["trainer_state"]["global_step"])
        log_history = list(state["trainer_state"].get("log_history", []))
        log(f"Resuming training from checkpoint {resume}")
        log(f"  Continuing training from checkpoint, will skip to saved global_step {step}")
    ddp = torch.nn.parallel.DistributedDataParallel(model) if distributed else model

    if rank == 0:
        output_dir.mkdir(parents=True, exist_ok=True)
        checkpointing.write_run_files(output_dir, run_info)
        checkpointing.write_processor(output_dir / "processor", run_info)
    barrier()

    per_device = max(1, args.global_batch_size // (world_size * args.gradient_accumulation_steps))
    frames = dataset.frames
    log("***** Running training *****")
    log(f"  Num examples = {frames:,}")
    log(f"  Total train batch size (w. parallel, distributed & accumulation) = {args.global_batch_size:,}")
    log(f"  Gradient Accumulation steps = {args.gradient_accumulation_steps}")
    log(f"  Total optimization steps = {args.max_steps:,}")
    faults.check_step(0, rank)
    started, done_here, losses = time.monotonic(), 0, []
    while step < args.max_steps:
        step += 1
        total_loss = 0.0
        for micro in range(args.gradient_accumulation_steps):
            # Batches are a pure function of (seed, step): a resumed run sees what an uninterrupted one would.
            picker = np.random.default_rng([SEED, step, micro])
            rows = picker.integers(0, frames, per_device * world_size)[
                rank * per_device : (rank + 1) * per_device
            ]
            state_np = dataset.state[rows]
            target = normalizer.action_targets(dataset.action_chunks(rows), state_np)
            prediction = ddp(
                torch.from_numpy(normalizer.state(state_np)), torch.from_numpy(dataset.task_index[rows])
            )
            loss = torch.nn.functional.mse_loss(prediction, torch.from_numpy(target))
            (loss / args.gradient_accumulation_steps).backward()
            total_loss += loss.item() / args.gradient_accumulation_steps
        grad_norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM))
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        faults.step_sleep()
        if distributed:
            reduced = torch.tensor([total_loss])
            dist.all_reduce(reduced)
            total_loss = reduced.item() / world_size
        losses.append(total_loss)
        done_here += 1
        if rank == 0:
            sys.stdout.write(progress_line(step, args.max_steps, time.monotonic() - started, done_here))
            sys.stdout.flush()
        epoch = step * args.global_batch_size / frames
        if step % LOGGING_STEPS == 0 or step == args.max_steps:
            entry = {
                "loss": round(total_loss, 4),
                "grad_norm": round(grad_norm, 4),
                "learning_rate": scheduler.get_last_lr()[0],
                "epoch": round(epoch, 4),
            }
            log("\n" + str(entry))
            log_history.append({**entry, "step": step})
        faults.check_step(step, rank)
        if step % args.save_steps == 0:
            _save(
                output_dir,
                step,
                model,
                config,
                run_info,
                optimizer,
                scheduler,
                log_history,
                args,
                epoch,
                rank=rank,
                world_size=world_size,
                barrier=barrier,
            )

    if rank == 0:
        runtime = time.monotonic() - started
        checkpointing.write_weights(output_dir, _weights(model), config)
        checkpointing.write_json(
            output_dir / "trainer_state.json",
            _trainer_state(step, args, log_history, step * args.global_batch_size / frames),
        )
        summary = {
            "train_runtime": round(runtime, 4),
            "train_samples_per_second": round(done_here * args.global_batch_size / max(runtime, 1e-9), 3),
            "train_steps_per_second": round(done_here / max(runtime, 1e-9), 3),
            "train_loss": round(float(np.mean(losses)) if losses else 0.0, 4),
            "epoch": round(step * args.global_batch_size / frames, 4),
        }
        print("\n" + str(summary), flush=True)
        print(f"Training finished; final model saved to {output_dir}", flush=True)
    barrier()
    if distributed:
        dist.destroy_process_group()
    return 0


def _weights(model) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy().astype(np.float32) for k, v in model.state_dict().items()}


def _trainer_state(step: int, args: argparse.Namespace, log_history: list, epoch: float) -> dict:
    return {
        "global_step": step,
        "max_steps": args.max_steps,
        "epoch": epoch,
        "logging_steps": LOGGING_STEPS,
        "save_steps": args.save_steps,
        "train_batch_size": args.global_batch_size,
        "log_history": log_history,
        "best_metric": None,
        "best_model_checkpoint": None,
        "best_global_step": None,
        "is_world_process_zero": True,
        "is_local_process_zero": True,
    }


def _save(
    output_dir,
    step,
    model,
    config,
    run_info,
    optimizer,
    scheduler,
    log_history,
    args,
    epoch,
    *,
    rank,
    world_size,
    barrier,
) -> None:
    import torch

    state = {
        "weights": _weights(model),
        "model_config": config,
        "run": run_info,
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "rng": {"python": random.getstate(), "numpy": np.random.get_state(), "cpu": torch.get_rng_state()},
        "trainer_state": _trainer_state(step, args, log_history, epoch),
    }
    checkpointing.save_checkpoint(output_dir, step, state, rank=rank, world_size=world_size, barrier=barrier)
    if rank == 0:
        checkpointing.rotate(output_dir, args.save_total_limit)
    barrier()
