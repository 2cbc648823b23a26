"""launch_finetune.py for real: torchrun (1 and 2 processes, gloo), checkpoints, rotation, resume, knobs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.integration.standin.conftest import base_flags
from tests.standins.model_fixture import STANDIN_ROOT

if str(STANDIN_ROOT) not in sys.path:
    sys.path.insert(0, str(STANDIN_ROOT))

from gr00t.utils.safetensors_io import load_sharded

CHECKPOINT_FILES = {
    "config.json",
    "model-00001-of-00001.safetensors",
    "model.safetensors.index.json",
    "trainer_state.json",
    "training_args.bin",
    "scheduler.pt",
    "optimizer.pt",
    "rng_state.pth",
    "experiment_cfg",
    "processor_config.json",
    "statistics.json",
    "embodiment_id.json",
    "wandb_config.json",
}


def checkpoint_steps(output: Path) -> list[int]:
    return sorted(int(p.name.split("-")[1]) for p in output.glob("checkpoint-*"))


def test_crash_resume_rotation_and_same_result_as_uninterrupted(
    dataset: Path, tmp_path: Path, launch
) -> None:
    out = tmp_path / "out"
    crashed = launch(
        base_flags(dataset, out),
        env={"GROOT_STANDIN_CRASH_AT_STEP": "5", "GROOT_STANDIN_PAD_CHECKPOINT_MB": "1"},
    )
    assert crashed.returncode != 0, crashed.stdout + crashed.stderr
    assert checkpoint_steps(out) == [2, 4]
    assert (dataset / "meta" / "stats.json").is_file() and (
        dataset / "meta" / "relative_stats.json"
    ).is_file()
    assert (out / "checkpoint-4" / "optimizer.pt").stat().st_size >= 1024 * 1024
    assert {p.name for p in (out / "checkpoint-4").iterdir()} == CHECKPOINT_FILES
    assert {p.name for p in (out / "processor").iterdir()} == {
        "processor_config.json",
        "statistics.json",
        "embodiment_id.json",
    }

    resumed = launch(base_flags(dataset, out))
    log = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, log
    assert f"Resuming training from checkpoint {out / 'checkpoint-4'}" in log
    assert f"Deleting older checkpoint [{out / 'checkpoint-2'}] due to args.save_total_limit" in log
    assert "6/6 [" in log and "it/s]" in log
    assert "{'loss': " in log and "'grad_norm': " in log and "'learning_rate': " in log and "'epoch': " in log
    assert checkpoint_steps(out) == [4, 6]
    state = json.loads((out / "checkpoint-6" / "trainer_state.json").read_text())
    assert state["global_step"] == 6 and state["log_history"][-1]["step"] == 6
    assert (out / "model.safetensors.index.json").is_file() and (
        out / "experiment_cfg" / "config.yaml"
    ).is_file()

    straight_out = tmp_path / "straight"
    straight = launch(base_flags(dataset, straight_out), nproc=0)
    assert straight.returncode == 0, straight.stderr
    resumed_weights, straight_weights = load_sharded(out), load_sharded(straight_out)
    assert resumed_weights.keys() == straight_weights.keys()
    for name in resumed_weights:
        np.testing.assert_allclose(
            resumed_weights[name], straight_weights[name], rtol=1e-6, atol=1e-7, err_msg=name
        )


def test_half_written_checkpoint_breaks_the_resume(dataset: Path, tmp_path: Path, launch) -> None:
    out = tmp_path / "out"
    killed = launch(
        base_flags(dataset, out, max_steps=4), nproc=0, env={"GROOT_STANDIN_CRASH_DURING_SAVE": "1"}
    )
    assert killed.returncode != 0
    half = out / "checkpoint-2"
    assert (half / "model-00001-of-00001.safetensors").is_file() and not (
        half / "trainer_state.json"
    ).exists()
    again = launch(base_flags(dataset, out, max_steps=4), nproc=0)
    assert again.returncode != 0
    assert f"Can't find a valid checkpoint at {half}" in again.stderr


def test_two_processes_ddp_over_gloo(dataset: Path, tmp_path: Path, launch) -> None:
    out = tmp_path / "out"
    result = launch(base_flags(dataset, out, num_gpus=2, max_steps=4, save_total_limit=1), nproc=2)
    assert result.returncode == 0, result.stdout + result.stderr
    assert checkpoint_steps(out) == [4]
    ckpt = out / "checkpoint-4"
    assert {p.name for p in (ckpt / "global_step4").iterdir()} == {
        "zero_pp_rank_0_mp_rank_00_optim_states.pt",
        "zero_pp_rank_1_mp_rank_00_optim_states.pt",
        "mp_rank_00_model_states.pt",
    }
    assert (ckpt / "rng_state_0.pth").is_file() and (ckpt / "rng_state_1.pth").is_file()
    assert not (ckpt / "optimizer.pt").exists() and (ckpt / "trainer_state.json").is_file()


def test_num_gpus_must_equal_world_size(dataset: Path, tmp_path: Path, launch) -> None:
    result = launch(base_flags(dataset, tmp_path / "out", num_gpus=2), nproc=0)
    assert result.returncode != 0
    assert "--num_gpus: 2 does not match the torchrun world size WORLD_SIZE=1" in result.stderr


def test_stale_stats_are_reused_and_relative_stats_rewritten_like_upstream(
    dataset: Path, tmp_path: Path, launch
) -> None:
    # Upstream (gr00t/data/stats.py) never checks stats against the data: groot-ops must, not the trainer.
    from groot_ops.data.fingerprint import stats_problems
    from groot_ops.data.stats import compute_stats

    compute_stats(dataset)
    episode = dataset / "data" / "chunk-000" / "episode_000001.parquet"
    table = pq.read_table(episode)
    states = table.column("observation.state").to_pylist()
    states[0][0] += 1.0
    table = table.set_column(table.schema.get_field_index("observation.state"), "observation.state",
                             pa.array(states, type=pa.list_(pa.float32())))  # fmt: skip
    pq.write_table(table, episode)
    rel = dataset / "meta" / "relative_stats.json"
    rel.write_text(json.dumps(json.loads(rel.read_text())))  # other bytes, same values
    result = launch(base_flags(dataset, tmp_path / "out", max_steps=2), nproc=0)
    assert result.returncode == 0, result.stdout + result.stderr
    # Rewritten at launch exactly as upstream writes it, values untouched.
    assert rel.read_text() == json.dumps(json.loads(rel.read_text()), indent=4)
    assert "fingerprint mismatch" in " ".join(stats_problems(dataset))


def test_missing_video_names_the_episode(dataset: Path, tmp_path: Path, launch) -> None:
    (dataset / "videos/chunk-000/observation.images.ego_view/episode_000002.mp4").unlink()
    result = launch(base_flags(dataset, tmp_path / "out"), nproc=0)
    assert result.returncode != 0
    assert "FileNotFoundError: episode 2: video" in result.stderr


@pytest.mark.parametrize(
    ("failure", "text", "code"),
    [
        ("cuda_oom", "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB", 1),
        ("disk_full", "OSError: [Errno 28] No space left on device", 1),
        ("nccl_timeout", "Watchdog caught collective operation timeout", 1),
        ("host_oom", "", -9),
    ],
)
def test_failure_knobs(dataset: Path, tmp_path: Path, launch, failure: str, text: str, code: int) -> None:
    result = launch(base_flags(dataset, tmp_path / "out"), nproc=0, env={"GROOT_STANDIN_FAIL": failure})
    assert result.returncode == code, result.stderr
    assert text in result.stderr
