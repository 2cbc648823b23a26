"""checkpoint-N directories in the layout and write order of HF Trainer (+ DeepSpeed when world size > 1).

transformers 4.51.3 ``Trainer._save_checkpoint``: the weights (with config.json and training_args.bin) first,
then each rank's optimizer/RNG state and the scheduler, then trainer_state.json, then the rotation; the
processor files follow from ``CheckpointFormatCallback`` (``gr00t.experiment.utils``). A process killed
mid-save leaves a checkpoint without trainer_state.json, which the next launch fails on, as upstream does.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from gr00t.experiment import faults
from gr00t.utils.safetensors_io import save_sharded

CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")


def checkpoints(output_dir: Path) -> list[tuple[int, Path]]:
    found = []
    if output_dir.is_dir():
        for child in output_dir.iterdir():
            match = CHECKPOINT_RE.match(child.name)
            if match and child.is_dir():
                found.append((int(match.group(1)), child))
    return sorted(found)


def index_shard_names(index: Path) -> list[str]:
    return sorted(set(json.loads(index.read_text())["weight_map"].values()))


def write_json(path: Path, payload: object) -> None:
    # TrainerState.save_to_json: indent 2, sorted keys, trailing newline.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def write_pipeline_files(cfg_dir: Path, run: dict) -> None:
    """What the model pipeline adds to experiment_cfg/ (contract section 6)."""
    cfg_dir.mkdir(parents=True, exist_ok=True)
    write_json(cfg_dir / "final_model_config.json", run["model_config"])
    write_json(cfg_dir / "final_processor_config.json", run["processor_config"])
    write_json(cfg_dir / "dataset_statistics.json", run["statistics"])


def write_processor(directory: Path, run: dict) -> None:
    # The processor's save_pretrained: processor_config.json, statistics.json, embodiment_id.json.
    directory.mkdir(parents=True, exist_ok=True)
    write_json(directory / "processor_config.json", run["processor_config"])
    write_json(directory / "statistics.json", run["statistics"])
    write_json(directory / "embodiment_id.json", {run["embodiment"]: 0})


def write_weights(directory: Path, weights: dict, model_config: dict, args: dict) -> None:
    """Trainer._save: the weights, config.json and training_args.bin."""
    import torch

    directory.mkdir(parents=True, exist_ok=True)
    save_sharded(weights, directory)
    write_json(directory / "config.json", model_config)
    torch.save(args, directory / "training_args.bin")


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
    optimizer_path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(optimizer, optimizer_path)
    torch.save(rng, rng_path)
    if world_size > 1 and rank == 0:
        torch.save({"world_size": world_size}, optimizer_path.parent / "mp_rank_00_model_states.pt")
        (checkpoint / "latest").write_text(f"global_step{step}")


def save_checkpoint(output_dir: Path, step: int, state: dict, *, rank: int, world_size: int, barrier) -> Path:
    """Save checkpoint-``step`` up to trainer_state.json (the caller rotates and formats it).

    ``state``: weights, model_config, args, optimizer, scheduler, rng, trainer_state.
    """
    import torch

    checkpoint = output_dir / f"checkpoint-{step}"
    if rank == 0:
        write_weights(checkpoint, state["weights"], state["model_config"], state["args"])
        if faults.crash_during_save(step):
            print("GROOT_STANDIN_CRASH_DURING_SAVE: dying after the weights (test knob)", flush=True)
            os._exit(1)
    barrier()
    pad = faults.pad_checkpoint_bytes()
    optimizer = {"state": state["optimizer"]}
    if pad:
        optimizer["padding"] = torch.zeros(pad, dtype=torch.uint8)
    write_rank_state(checkpoint, step, optimizer, state["rng"], rank=rank, world_size=world_size)
    if rank == 0:
        torch.save(state["scheduler"], checkpoint / "scheduler.pt")
    barrier()
    if rank == 0:
        write_json(checkpoint / "trainer_state.json", state["trainer_state"])
    barrier()
    return checkpoint


def rotate(output_dir: Path, limit: int) -> list[Path]:
    """Trainer._rotate_checkpoints: delete the oldest checkpoints beyond ``save_total_limit`` (silently:
    its "Deleting older checkpoint" line is an INFO of the transformers logger, which n1.6.1 mutes)."""
    found = checkpoints(output_dir)
    removed = []
    for _, path in found[: max(0, len(found) - limit)]:
        shutil.rmtree(path)
        removed.append(path)
    return removed


def load_rank_state(checkpoint: Path, step: int, *, rank: int, world_size: int) -> dict:
    """This rank's optimizer and RNG state; None for what is missing (HF then starts them fresh).

    Under DeepSpeed the engine refuses a checkpoint saved with another world size.
    """
    import torch

    optimizer_path, rng_path = rank_state_paths(checkpoint, step, rank=rank, world_size=world_size)
    if world_size > 1 and not optimizer_path.is_file():
        raise ValueError(
            f"Can't resume from {checkpoint} with world size {world_size}: {optimizer_path.name} is missing "
            "(DeepSpeed checkpoints need the GPU count they were saved with)"
        )
    optimizer = torch.load(optimizer_path, weights_only=False)["state"] if optimizer_path.is_file() else None
    rng = torch.load(rng_path, weights_only=False) if rng_path.is_file() else None
    return {"optimizer": optimizer, "rng": rng}
