"""The real ``LeRobotEpisodeLoader`` (UNITREE_G1, with video) on each dataset given: its verdict as JSON.

Usage: data_loader_verdict.py BACKEND DATASET... ; prints one JSON document on its last line:
``{"backend", "datasets": {path: {"ok", "episodes": [{"episode", "rows", "frames", "shape", "tasks"}]}
| {"ok": false, "error": {"type", "message"}}}}``. Every episode is loaded (video decoded), as training
would eventually. The stand-in's reader is held against these verdicts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "stubs"))
import data_torchvision_shim  # noqa: F401 - before gr00t: video_utils imports torchvision
from gr00t.configs.data.embodiment_configs import MODALITY_CONFIGS
from gr00t.data.dataset.lerobot_episode_loader import LeRobotEpisodeLoader


def verdict(path: str, backend: str) -> dict:
    episodes = []
    try:
        loader = LeRobotEpisodeLoader(path, MODALITY_CONFIGS["unitree_g1"], video_backend=backend)
        for number in range(len(loader)):
            frame = loader[number]
            video = frame["video.ego_view"]
            episodes.append(
                {
                    "episode": int(loader.episodes_metadata[number]["episode_index"]),
                    "rows": len(frame),
                    "frames": len(video),
                    "shape": list(video.iloc[0].shape),
                    "tasks": sorted(set(frame["language.annotation.human.task_description"])),
                }
            )
    except Exception as exc:  # the verdict is the exception upstream raises
        return {"ok": False, "error": {"type": type(exc).__name__, "message": str(exc)[:300]}}
    return {"ok": True, "episodes": episodes}


def main() -> None:
    backend, paths = sys.argv[1], sys.argv[2:]
    print(json.dumps({"backend": backend, "datasets": {p: verdict(p, backend) for p in paths}}))


if __name__ == "__main__":
    main()
