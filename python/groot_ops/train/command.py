"""The torchrun command line for a spec: launch_finetune.py with typed flags, --num_gpus = world size."""

from __future__ import annotations

import os
from pathlib import Path

from groot_ops.train.flags import flag_args
from groot_ops.train.spec import TrainSpec

LAUNCH_SCRIPT = "gr00t/experiment/launch_finetune.py"
# Fragmentation is the usual cause of OOM late in N1.6 runs; the original runbook exported this by hand.
ALLOC_CONF = "expandable_segments:True"


def torchrun_argv(spec: TrainSpec) -> list[str]:
    """The full argv: ``python -m torch.distributed.run ... launch_finetune.py ...``."""
    argv = [spec.python, "-m", "torch.distributed.run", f"--nnodes={spec.nnodes}"]
    argv.append(f"--nproc_per_node={spec.nproc_per_node}")
    if spec.nnodes == 1:
        # standalone picks a free local port, so two workstations' runs never collide on 29500.
        argv.append("--standalone")
    elif spec.rdzv_backend == "c10d":
        argv += [
            f"--node_rank={spec.node_rank}",
            "--rdzv_backend=c10d",
            f"--rdzv_endpoint={spec.rdzv_endpoint}",
            f"--rdzv_id={spec.rendezvous_id}",
        ]
    else:
        host, _, port = spec.rdzv_endpoint.rpartition(":")
        argv += [f"--node_rank={spec.node_rank}", f"--master_addr={host}", f"--master_port={port}"]
    argv.append(str(Path(spec.isaac_groot_dir) / LAUNCH_SCRIPT))
    base = spec.warm_start_from or spec.base_model_path
    argv += [
        "--base_model_path",
        base,
        "--dataset_path",
        spec.dataset_path,
        "--embodiment_tag",
        spec.embodiment_tag,
        "--output_dir",
        spec.output_dir,
        "--num_gpus",
        str(spec.world_size),
    ]
    for name in sorted(spec.flags):
        argv += flag_args(name, spec.flags[name])
    return argv


def child_env(spec: TrainSpec, secrets: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of torchrun: ours, the recipe's extra env, Isaac-GR00T on PYTHONPATH, secrets last."""
    env = dict(os.environ)
    env.update(spec.env)
    env.setdefault("PYTORCH_CUDA_ALLOC_CONF", ALLOC_CONF)
    # Both layouts work: an installed gr00t package, or a checkout found through PYTHONPATH.
    path = [spec.isaac_groot_dir, *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(path))
    env["PYTHONUNBUFFERED"] = "1"
    if secrets:
        env.update(secrets)
    return env
