"""Layout-exact fake GR00T checkpoints (groot-n16-contract.md section 6) for export/publish tests."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np


def _fake_safetensors(size: int, seed: int) -> bytes:
    # A real safetensors header (8-byte length + JSON) followed by one float32 tensor of noise.
    count = max(1, size // 4)
    header = json.dumps({"w": {"dtype": "F32", "shape": [count], "data_offsets": [0, count * 4]}}).encode()
    header += b" " * (-len(header) % 8)
    body = np.random.default_rng(seed).standard_normal(count).astype("<f4").tobytes()
    return len(header).to_bytes(8, "little") + header + body


def write_checkpoint(
    output_dir: str | os.PathLike[str],
    step: int,
    *,
    shards: int = 2,
    shard_bytes: int = 4096,
    multi_gpu: bool = False,
    complete: bool = True,
) -> Path:
    """Write ``output_dir/checkpoint-<step>`` with weights, index, processor files and training state."""
    ckpt = Path(output_dir) / f"checkpoint-{step}"
    ckpt.mkdir(parents=True, exist_ok=True)
    names = [f"model-{i:05d}-of-{shards:05d}.safetensors" for i in range(1, shards + 1)]
    for i, name in enumerate(names):
        if complete or i < shards - 1:
            (ckpt / name).write_bytes(_fake_safetensors(shard_bytes, seed=step * 100 + i))
    weight_map = {f"layer{i}.w": name for i, name in enumerate(names)}
    (ckpt / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": shard_bytes * shards}, "weight_map": weight_map})
    )
    (ckpt / "config.json").write_text(json.dumps({"model_type": "Gr00tN1d6", "step": step}))
    (ckpt / "processor_config.json").write_text(json.dumps({"processor": "gr00t"}))
    (ckpt / "statistics.json").write_text(json.dumps({"unitree_g1": {"state": {"mean": [0.0]}}}))
    (ckpt / "embodiment_id.json").write_text(json.dumps({"unitree_g1": 24}))
    (ckpt / "wandb_config.json").write_text("{}")
    (ckpt / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    (ckpt / "training_args.bin").write_bytes(b"\0" * 64)
    (ckpt / "scheduler.pt").write_bytes(b"\1" * 64)
    if multi_gpu:
        zero = ckpt / f"global_step{step}"
        zero.mkdir(exist_ok=True)
        for rank in range(2):
            (zero / f"bf16_zero_pp_rank_{rank}_mp_rank_00_optim_states.pt").write_bytes(b"\2" * 256)
    else:
        (ckpt / "optimizer.pt").write_bytes(b"\3" * 1024)
        (ckpt / "rng_state.pth").write_bytes(b"\4" * 32)
    cfg = ckpt / "experiment_cfg"
    cfg.mkdir(exist_ok=True)
    (cfg / "config.yaml").write_text("max_steps: 100\n")
    (cfg / "final_model_config.json").write_text("{}")
    return ckpt
