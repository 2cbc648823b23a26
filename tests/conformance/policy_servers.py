"""Start policy servers for the conformance suite and its recorder: upstream's real one, and the stand-in.

``UpstreamServer`` runs upstream's own ``gr00t/eval/run_gr00t_server.py`` in upstream's interpreter with
only model loading and inference replaced (``upstream_side/fake_gr00t_model.py``), on a checkpoint
whose processor files upstream's own code wrote (``upstream_side/make_fake_checkpoint.py``) from the
statistics of a UNITREE_G1 dataset's ``meta/`` (``write_dataset_meta``).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.conformance.upstream import UPSTREAM_SIDE, Upstream
from tests.standins.g1_layout import ACTION_GROUPS, STATE_GROUPS
from tests.standins.model_fixture import STANDIN_ROOT

READY = "Server is ready and listening on"
TASK = "Fold the towel."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stats(width: int, scale: float) -> dict[str, list[float]]:
    """Distinct, asymmetric per-dimension statistics, so unnormalization shows in the actions."""
    return {
        "mean": [0.01 * i * scale for i in range(width)],
        "std": [0.5 + 0.01 * i for i in range(width)],
        "min": [-1.0 - 0.05 * i * scale for i in range(width)],
        "max": [1.0 + 0.1 * i * scale for i in range(width)],
        "q01": [-0.9 - 0.05 * i * scale for i in range(width)],
        "q99": [0.9 + 0.1 * i * scale for i in range(width)],
    }


def write_dataset_meta(root: Path) -> Path:
    """The ``meta/`` of a 31/23 UNITREE_G1 dataset: what upstream's loader reads for statistics."""
    meta = root / "meta"
    meta.mkdir(parents=True, exist_ok=True)
    stats = {"observation.state": _stats(31, 1.0), "action": _stats(23, 2.0), "timestamp": _stats(1, 1.0)}
    bases = {"max": 0.2, "min": -0.3, "q01": -0.25, "q99": 0.15, "mean": 0.0}
    relative = {}
    for group in ("left_arm", "right_arm"):  # (30, 7) per statistic: one row per chunk step
        width = ACTION_GROUPS[group][1] - ACTION_GROUPS[group][0]
        relative[group] = {
            stat: [[base + 0.01 * t] * width for t in range(30)] for stat, base in bases.items()
        }
        relative[group]["std"] = [[0.1] * width for _ in range(30)]
    modality = {
        "state": {k: {"start": a, "end": b} for k, (a, b) in STATE_GROUPS.items()},
        "action": {k: {"start": a, "end": b} for k, (a, b) in ACTION_GROUPS.items()},
        "video": {"ego_view": {"original_key": "observation.images.ego_view"}},
        "annotation": {"human.task_description": {"original_key": "task_index"}},
    }
    info = {
        "codebase_version": "v2.1",
        "fps": 30,
        "chunks_size": 1000,
        "data_path": "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet",
        "video_path": "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4",
        "features": {},
    }
    (meta / "stats.json").write_text(json.dumps(stats, indent=4))
    (meta / "relative_stats.json").write_text(json.dumps(relative, indent=4))
    (meta / "modality.json").write_text(json.dumps(modality, indent=4))
    (meta / "info.json").write_text(json.dumps(info, indent=4))
    (meta / "episodes.jsonl").write_text(
        json.dumps({"episode_index": 0, "tasks": [TASK], "length": 1500}) + "\n"
    )
    (meta / "tasks.jsonl").write_text(json.dumps({"task_index": 0, "task": TASK}) + "\n")
    return root


def make_upstream_checkpoint(upstream: Upstream, dest: Path) -> Path:
    dataset = write_dataset_meta(dest.parent / f"{dest.name}-dataset")
    upstream.run_json("make_fake_checkpoint.py", str(dataset), str(dest), extra_env=_quiet())
    return dest


def _quiet() -> dict[str, str]:
    return {"NO_ALBUMENTATIONS_UPDATE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"}


class RunningServer:
    """A server process; ``lines`` collects its output, ``ready`` is set at the ready line."""

    def __init__(self, argv: list[str], *, env: dict[str, str], cwd: Path, port: int, timeout_s: float):
        self.port = port
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout_s
        while not self.ready.wait(0.2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"server did not become ready: {argv}\n" + "".join(self.lines[-60:]))

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if line.startswith(READY):
                self.ready.set()

    @property
    def startup_lines(self) -> list[str]:
        """Everything printed up to and including the ready line."""
        out = []
        for line in self.lines:
            out.append(line.rstrip("\n"))
            if line.startswith(READY):
                break
        return out

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self._reader.join(timeout=5)
        return "".join(self.lines)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def upstream_server(
    upstream: Upstream,
    model_dir: Path,
    *flags: str,
    port: int | None = None,
    embodiment_tag: str = "UNITREE_G1",
) -> RunningServer:
    """Upstream's run_gr00t_server.py on the fake model; the flags are its own (``--no-strict`` ...)."""
    port = port or free_port()
    argv = [
        str(upstream.python),
        str(UPSTREAM_SIDE / "serve_with_fake_model.py"),
        *("--model-path", str(model_dir), "--embodiment-tag", embodiment_tag),
        *("--host", "127.0.0.1", "--port", str(port), "--device", "cpu", *flags),
    ]
    return RunningServer(argv, env=upstream.env(_quiet()), cwd=upstream.src, port=port, timeout_s=300)


def standin_server(
    model_dir: Path, *flags: str, port: int | None = None, embodiment_tag: str = "UNITREE_G1"
) -> RunningServer:
    """The stand-in's run_gr00t_server.py in this interpreter (as the lab image runs it)."""
    port = port or free_port()
    argv = [
        sys.executable,
        str(STANDIN_ROOT / "gr00t" / "eval" / "run_gr00t_server.py"),
        *("--model-path", str(model_dir), "--embodiment-tag", embodiment_tag),
        *("--host", "127.0.0.1", "--port", str(port), "--device", "cpu", *flags),
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return RunningServer(argv, env=env, cwd=STANDIN_ROOT, port=port, timeout_s=60)
