"""A minimal valid GR00T-layout UNITREE_G1 dataset for the stand-in tests, with real H.264 videos of one frame
per row (the stand-in decodes them as upstream's loader does)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tests.standins.g1_layout import ACTION_GROUPS, STATE_GROUPS

TASKS = ("Fold the towel.", "Pick up the cup.")


def _modality() -> dict:
    return {
        "state": {k: {"start": a, "end": b} for k, (a, b) in STATE_GROUPS.items()},
        "action": {k: {"start": a, "end": b} for k, (a, b) in ACTION_GROUPS.items()},
        "video": {"ego_view": {"original_key": "observation.images.ego_view"}},
        "annotation": {"human.task_description": {"original_key": "task_index"}},
    }


def _info(episodes: int, frames: int) -> dict:
    return {
        "codebase_version": "v2.1",
        "robot_type": "Unitree_G1_Dex1",
        "total_episodes": episodes,
        "total_frames": frames,
        "total_tasks": len(TASKS),
        "chunks_size": 1000,
        "fps": 30,
        "data_path": "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet",
        "video_path": "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4",
        "features": {
            "observation.state": {"dtype": "float32", "shape": [31]},
            "action": {"dtype": "float32", "shape": [23]},
            "timestamp": {"dtype": "float32", "shape": [1]},
            "observation.images.ego_view": {"dtype": "video", "shape": [48, 64, 3]},
            "frame_index": {"dtype": "int64", "shape": [1]},
            "episode_index": {"dtype": "int64", "shape": [1]},
            "index": {"dtype": "int64", "shape": [1]},
            "task_index": {"dtype": "int64", "shape": [1]},
        },
    }


def write_groot_dataset(root: Path, *, episodes: int = 4, length: int = 45, seed: int = 0) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from groot_ops.data.video import VideoWriter

    rng = np.random.default_rng(seed)
    meta = root / "meta"
    meta.mkdir(parents=True, exist_ok=True)
    index = 0
    episode_rows = []
    for episode in range(episodes):
        t = np.linspace(0, 1, length, dtype=np.float32)[:, None]
        state = (np.sin(t * (1 + rng.random(31)) * 3) + 0.01 * rng.standard_normal((length, 31))).astype(
            np.float32
        )
        action = np.zeros((length, 23), dtype=np.float32)
        action[:, 0:7] = state[:, 15:22] + 0.05  # absolute arm targets near the arm state
        action[:, 7:14] = state[:, 22:29] - 0.05
        action[:, 14:23] = rng.standard_normal((length, 9)).astype(np.float32) * 0.1
        task = episode % len(TASKS)
        table = pa.table(
            {
                "observation.state": pa.array(state.tolist(), type=pa.list_(pa.float32())),
                "action": pa.array(action.tolist(), type=pa.list_(pa.float32())),
                "timestamp": pa.array((np.arange(length) / 30).astype(np.float32)),
                "frame_index": pa.array(np.arange(length, dtype=np.int64)),
                "episode_index": pa.array(np.full(length, episode, dtype=np.int64)),
                "index": pa.array(np.arange(index, index + length, dtype=np.int64)),
                "task_index": pa.array(np.full(length, task, dtype=np.int64)),
            }
        )
        data = root / f"data/chunk-000/episode_{episode:06d}.parquet"
        data.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, data)
        video = root / f"videos/chunk-000/observation.images.ego_view/episode_{episode:06d}.mp4"
        writer = VideoWriter(video, fps=30, width=64, height=48, codec="h264")
        for frame in range(length):
            writer.write(np.full((48, 64, 3), (frame * 5 + episode * 40) % 256, dtype=np.uint8))
        writer.close()
        episode_rows.append({"episode_index": episode, "tasks": [TASKS[task]], "length": length})
        index += length
    (meta / "info.json").write_text(json.dumps(_info(episodes, index), indent=2))
    (meta / "modality.json").write_text(json.dumps(_modality(), indent=2))
    (meta / "episodes.jsonl").write_text("".join(json.dumps(r) + "\n" for r in episode_rows))
    (meta / "tasks.jsonl").write_text(
        "".join(json.dumps({"task_index": i, "task": t}) + "\n" for i, t in enumerate(TASKS))
    )
    return root
