"""checkpoint-N directories in the layout and write order of HF Trainer (+ DeepSpeed when world size > 1).

Weights go first and trainer_state.json last, so a process killed mid-save leaves a checkpoint without
trainer_state.json, which the next launch refuses to resume from, as upstream does.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from gr00t.experiment import faults
from gr00t.utils.safetensors_io import index_shards, save_sharded

CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")
PROCESSOR_FILES = ("processor_config.json", "statistics.json", "embodiment_id.json")


def checkpoints(output_dir: Path) -> list[tuple[int, Path]]:
    found = []
    if output_dir.is_dir():
        for child in output_dir.iterdir():
            match = CHECKPOINT_RE.match(child.name)
            if match and child.is_dir():
                found.append((int(match.group(1)), child))
    return sorted(found)


def is_valid(checkpoint: Path) -> bool:
    if not (checkpoint / "trainer_state.json").is_file():
        return False
    try:
        shards = index_shards(checkpoint)
    except (OSError, ValueError, KeyError):
        return False
    return all((checkpoint / shard).is_file() for shard in shards)


def resume_checkpoint(output_dir: Path) -> Path | None:
    """The newest checkpoint-N; raises when it is incomplete instead of silently using an older one."""
    found = checkpoints(output_dir)
    if not found:
        return None
    newest = found[-1][1]
    if not is_valid(newest):
        raise ValueError(f"Can't find a valid checkpoint at {newest}")
    return newest


def write_json(path: Path, payload: object) -> None:
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")


def write_run_files(directory: Path, run: dict) -> None:
    """experiment_cfg/, processor files and wandb_config.json (root: processor/; checkpoint: flat)."""
    cfg = directory / "experiment_cfg"
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / "config.yaml").write_text(
        "".join(f"{k}: {json.dumps(v)}\n" for k, v in sorted(run["args"].items()))
    )
    (cfg / "conf.yaml").write_text(f"embodiment_tag: {run['embodiment']}\nstandin: true\n")
    write_json(cfg / "final_model_config.json", run["model_config"])
    write_json(cfg / "final_processor_config.json", run["processor_config"])
    write_json(cfg / "dataset_statistics.json", run["statistics"])
    write_json(
        directory / "wandb_config.json",
        {"project": "finetune-gr00t-n1d6", "enabled": run["args"]["use_wandb"]},
    )


def write_processor(directory: Path, run: dict) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    write_json(directory / "processor_config.json", run["processor_config"])
    write_json(directory / "statistics.json", run["statistics"])
    write_json(directory / "embodiment_id.json", {run["embodiment"]: 0})


def write_weights(directory: Path, weights: dict, model_config: dict) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    save_sharded(weights, directory)
    write_json(directory / "config.json", model_config)


def rank_state_paths(checkpoint: Path, step: int, *, rank: int, world_size: int) -> tuple[Path, Path]:
    """This rank's optimizer and RNG files: HF Trainer's flat ones alone, DeepSpeed ZeRO's per rank."""
    if world_size == 1:
        return checkpoint / "optimizer.pt", checkpoint / "rng_state.pth"
    zero = checkpoint / f"global_step{step}"
    return zero / f"zero_pp_rank_{rank}_mp_rank_00_optim_states.pt", checkpoint / f"rng_state_{rank}.pth"


def write_rank_state(
    checkpoint: Path, step: int, optimizer: dict, rng: dict, *, rank: int, world_size: int
) -> None:
    """Every rank's optimizer and RNG state, then (DeepSpeed, rank 0) the model-states file and ``latest``."""
    import torch

    optimizer_path, rng_path = rank_state_paths(checkpoint, step, rank=rank, world_size=world_size)
    # global_stepN/ under DeepSpeed; the checkpoint directory rank 0 already made when alone.
    optimizer_path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(optimizer, optimizer_path)
    torch.save(rng, rng_path)
    if world_size > 1 and rank == 0:
        torch.save({"world_size": world_size}, optimizer_path.parent / "mp_rank_00_model_states.pt")
        (checkpoint / "latest").write_text(f"global_step{step}")


def save_checkpoint(output_dir: Path, step: int, state: dict, *, rank: int, world_size: int, barrier) -> Path:
    """Save checkpoint-``step``.

    ``state``: weights, model_config, run, optimizer, scheduler, rng, trainer_state.
    """
    import torch

    checkpoint = output_dir / f"checkpoint-{step}"
    if rank == 0:
        print(f"Saving model checkpoint to {checkpoint}", flush=True)
        write_weights(checkpoint, state["weights"], state["model_config"])
        if faults.crash_during_save():
            print("GROOT_STANDIN_CRASH_DURING_SAVE: dying after the weights (test knob)", flush=True)
            import os

            os._exit(1)
        write_run_files(checkpoint, state["run"])
        write_processor(checkpoint, state["run"])
        torch.save(state["run"]["args"], checkpoint / "training_args.bin")
        torch.save(state["scheduler"], checkpoint / "scheduler.pt")
    barrier()
    pad = faults.pad_checkpoint_bytes()
    optimizer = {"state": state["optimizer"]}
    if pad:
        optimizer["padding"] = torch.zeros(pad, dtype=torch.uint8)
    write_rank_state(checkpoint, step, optimizer, state["rng"], rank=rank, world_size=world_size)
    barrier()
    if rank == 0:
        write_json(checkpoint / "trainer_state.json", state["trainer_state"])
    barrier()
    return checkpoint


def rotate(output_dir: Path, limit: int) -> list[Path]:
    """Delete the oldest checkpoints beyond ``limit`` (HF's save_total_limit)."""
    found = checkpoints(output_dir)
    removed = []
    for _, path in found[: max(0, len(found) - limit)]:
        print(f"Deleting older checkpoint [{path}] due to args.save_total_limit", flush=True)
        shutil.rmtree(path)
        removed.append(path)
    return removed


def load_checkpoint(checkpoint: Path, *, rank: int, world_size: int) -> dict:
    import torch

    from gr00t.utils.safetensors_io import load_sharded

    trainer_state = json.loads((checkpoint / "trainer_state.json").read_text())
    step = int(trainer_state["global_step"])
    optimizer_path, rng_path = rank_state_paths(checkpoint, step, rank=rank, world_size=world_size)
    if not optimizer_path.is_file():
        raise ValueError(
            f"Can't resume from {checkpoint} with world size {world_size}: {optimizer_path.name} is missing "
            "(DeepSpeed checkpoints need the GPU count they were saved with)"
        )
    return {
        "weights": load_sharded(checkpoint),
        "optimizer": torch.load(optimizer_path, weights_only=False)["state"],
        "scheduler": torch.load(checkpoint / "scheduler.pt", weights_only=False),
        "rng": torch.load(rng_path, weights_only=False) if rng_path.is_file() else None,
        "trainer_state": trainer_state,
    }
