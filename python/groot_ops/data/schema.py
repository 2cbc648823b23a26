"""The GR00T ``UNITREE_G1`` dataset layout (31-dim state, 23-dim action) and its meta files.

Everything here is fixed by the Isaac-GR00T n1.6.1 contract; group sizes reach the trainer only
through ``meta/modality.json``, so it is generated from the same table the converter slices with.
"""

from __future__ import annotations

from typing import Any

STATE_KEY = "observation.state"
ACTION_KEY = "action"
EGO_VIDEO_KEY = "observation.images.ego_view"
STATE_DIM = 31
ACTION_DIM = 23
CHUNKS_SIZE = 1000
CODEBASE_VERSION = "v2.1"
ACTION_HORIZON = 30
RELATIVE_GROUPS: tuple[str, ...] = ("left_arm", "right_arm")
INDEX_COLUMNS: tuple[str, ...] = ("frame_index", "episode_index", "index", "task_index")
DATA_PATH = "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet"
VIDEO_PATH = "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4"

# (group, start, end) half-open, in the order of the 31/23 vectors.
STATE_GROUPS: tuple[tuple[str, int, int], ...] = (
    ("left_leg", 0, 6),
    ("right_leg", 6, 12),
    ("waist", 12, 15),
    ("left_arm", 15, 22),
    ("right_arm", 22, 29),
    ("left_hand", 29, 30),
    ("right_hand", 30, 31),
)
ACTION_GROUPS: tuple[tuple[str, int, int], ...] = (
    ("left_arm", 0, 7),
    ("right_arm", 7, 14),
    ("left_hand", 14, 15),
    ("right_hand", 15, 16),
    ("waist", 16, 19),
    ("base_height_command", 19, 20),
    ("navigate_command", 20, 23),
)

_LEG = ("hip_pitch", "hip_roll", "hip_yaw", "knee", "ankle_pitch", "ankle_roll")
_ARM = ("shoulder_pitch", "shoulder_roll", "shoulder_yaw", "elbow", "wrist_roll", "wrist_pitch", "wrist_yaw")
STATE_NAMES: tuple[str, ...] = (
    *(f"left_{j}" for j in _LEG),
    *(f"right_{j}" for j in _LEG),
    "waist_yaw",
    "waist_roll",
    "waist_pitch",
    *(f"left_{j}" for j in _ARM),
    *(f"right_{j}" for j in _ARM),
    "left_gripper",
    "right_gripper",
)
ACTION_NAMES: tuple[str, ...] = (
    *(f"left_{j}" for j in _ARM),
    *(f"right_{j}" for j in _ARM),
    "left_gripper",
    "right_gripper",
    "waist_yaw",
    "waist_pitch",
    "waist_roll",
    "base_height",
    "navigate_vx",
    "navigate_vy",
    "navigate_yaw_rate",
)
assert len(STATE_NAMES) == STATE_DIM and len(ACTION_NAMES) == ACTION_DIM


def group_slice(groups: tuple[tuple[str, int, int], ...], name: str) -> slice:
    for group, start, end in groups:
        if group == name:
            return slice(start, end)
    raise KeyError(name)


def modality_json() -> dict[str, Any]:
    """``meta/modality.json`` exactly as the contract (section 3) states it."""
    return {
        "state": {name: {"start": s, "end": e} for name, s, e in STATE_GROUPS},
        "action": {name: {"start": s, "end": e} for name, s, e in ACTION_GROUPS},
        "video": {"ego_view": {"original_key": EGO_VIDEO_KEY}},
        "annotation": {"human.task_description": {"original_key": "task_index"}},
    }


def episode_chunk(episode_index: int, chunks_size: int = CHUNKS_SIZE) -> int:
    return episode_index // chunks_size


def data_file(episode_index: int, chunks_size: int = CHUNKS_SIZE) -> str:
    return DATA_PATH.format(
        episode_chunk=episode_chunk(episode_index, chunks_size), episode_index=episode_index
    )


def video_file(episode_index: int, chunks_size: int = CHUNKS_SIZE, video_key: str = EGO_VIDEO_KEY) -> str:
    return VIDEO_PATH.format(
        episode_chunk=episode_chunk(episode_index, chunks_size),
        video_key=video_key,
        episode_index=episode_index,
    )


def features(ego_feature: dict[str, Any]) -> dict[str, Any]:
    """``features`` of ``meta/info.json``; the ego video entry is copied from the source camera."""
    scalar_int = {"dtype": "int64", "shape": [1], "names": None}
    return {
        STATE_KEY: {"dtype": "float32", "shape": [STATE_DIM], "names": list(STATE_NAMES)},
        ACTION_KEY: {"dtype": "float32", "shape": [ACTION_DIM], "names": list(ACTION_NAMES)},
        "timestamp": {"dtype": "float32", "shape": [1], "names": None},
        **{name: dict(scalar_int) for name in INDEX_COLUMNS},
        EGO_VIDEO_KEY: ego_feature,
    }


def info_json(
    *,
    fps: float,
    robot_type: str,
    episodes: int,
    frames: int,
    tasks: int,
    ego_feature: dict[str, Any],
) -> dict[str, Any]:
    chunks = (episodes + CHUNKS_SIZE - 1) // CHUNKS_SIZE if episodes else 0
    return {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": robot_type,
        "total_episodes": episodes,
        "total_frames": frames,
        "total_tasks": tasks,
        "total_videos": episodes,
        "total_chunks": chunks,
        "chunks_size": CHUNKS_SIZE,
        "fps": fps,
        "splits": {"train": f"0:{episodes}"},
        "data_path": DATA_PATH,
        "video_path": VIDEO_PATH,
        "features": features(ego_feature),
    }


def float_features(info: dict[str, Any]) -> list[str]:
    """Features the GR00T stats code covers: every non-video feature whose dtype contains "float"."""
    return [
        name
        for name, feature in info.get("features", {}).items()
        if "float" in str(feature.get("dtype", "")) and feature.get("dtype") != "video"
    ]
