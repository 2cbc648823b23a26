"""The launch record ``runs/<recipe>/launch.json``: what a run was trained on, fixed when it was launched.

Written when the supervisor launches a new run (not when it resumes one), read by publish for the model
card, and by ``status``/``plan`` to say when the current dataset is no longer the one a finished run
was trained on. Schema (the shared decision)::

    {"recipe", "launched_at", "groot_ops_commit", "groot_ops_dirty", "isaac_groot_commit",
     "base_model": {"id", "revision"}, "embodiment_tag",
     "datasets": [{"name", "repo_id", "revision", "sha"}], "data_fingerprint", "stats_fingerprint",
     "flags": {launch_finetune flag: value}, "modality_config": null | {"path", "sha256"},
     "warm_start": null | {"repo_id", "revision", "sha"}}

``warm_start`` (an addition to the shared schema) names the Hub model a warm start began from.

``flags`` holds every field of upstream's ``FinetuneConfig`` as this launch sets it: the recipe's
values, upstream's defaults for the rest, and the ones the supervisor derives (paths, tag, GPU count).
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

from groot_ops.atomic import write_json
from groot_ops.train.flags import FLAGS
from groot_ops.train.spec import TrainSpec

LAUNCH_NAME = "launch.json"
DATASET_KEYS = ("name", "repo_id", "revision", "sha")


def _git_commit(path: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", path, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and len(commit) == 40 else None


def _datasets(provenance_file: str | None) -> list[dict[str, Any]]:
    """The datasets role's record (datasets/provenance/<recipe>.json): name, repo_id, revision, sha each."""
    if not provenance_file:
        return []
    try:
        data = json.loads(Path(provenance_file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    entries = data.get("datasets") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return []
    return [{key: entry.get(key) for key in DATASET_KEYS} for entry in entries if isinstance(entry, dict)]


def _stats_fingerprint(dataset_path: str) -> str | None:
    """The data fingerprint the dataset's stats were computed from (meta/groot_ops.json)."""
    from groot_ops.data.fingerprint import read_record

    stats = read_record(dataset_path).get("stats")
    value = stats.get("fingerprint") if isinstance(stats, dict) else None
    return value if isinstance(value, str) else None


def _base_model_revision(spec: TrainSpec) -> str | None:
    """The recipe's pin, else the commit the local HF cache resolves ``main`` to (when it holds the model)."""
    if spec.base_model_revision:
        return spec.base_model_revision
    hf_home = spec.env.get("HF_HOME")
    if not hf_home or Path(spec.base_model_path).exists():
        return None
    ref = Path(hf_home) / "hub" / f"models--{spec.base_model_path.replace('/', '--')}" / "refs" / "main"
    try:
        commit = ref.read_text().strip()
    except OSError:
        return None
    return commit or None


def effective_flags(spec: TrainSpec) -> dict[str, Any]:
    """Every launch_finetune.py flag as this launch sets it (FinetuneConfig's field order)."""
    flags: dict[str, Any] = {
        "base_model_path": spec.warm_start_from or spec.base_model_path,
        "dataset_path": spec.dataset_path,
        "embodiment_tag": spec.embodiment_tag,
    }
    for name in FLAGS:
        flags[name] = spec.flag(name)
    flags["output_dir"] = spec.output_dir
    flags["num_gpus"] = spec.world_size
    return flags


def _modality_config(spec: TrainSpec) -> dict[str, str] | None:
    path = spec.flags.get("modality_config_path")
    if not path:
        return None
    from groot_ops.data.fingerprint import file_digest

    try:
        digest = file_digest(Path(path))
    except OSError:
        digest = None
    return {"path": str(path), "sha256": digest}


def launch_record(spec: TrainSpec) -> dict[str, Any]:
    from groot_ops.data.fingerprint import dataset_fingerprint

    return {
        "recipe": spec.recipe,
        "launched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "groot_ops_commit": spec.groot_ops_commit,
        "groot_ops_dirty": spec.groot_ops_dirty,
        "isaac_groot_commit": _git_commit(spec.isaac_groot_dir),
        "base_model": {"id": spec.base_model_path, "revision": _base_model_revision(spec)},
        "embodiment_tag": spec.embodiment_tag,
        "datasets": _datasets(spec.datasets_provenance),
        "data_fingerprint": dataset_fingerprint(spec.dataset_path),
        "stats_fingerprint": _stats_fingerprint(spec.dataset_path),
        "flags": effective_flags(spec),
        "modality_config": _modality_config(spec),
        "warm_start": dict(spec.warm_start_source) if spec.warm_start_source else None,
    }


def write_launch_record(spec: TrainSpec) -> dict[str, Any]:
    record = launch_record(spec)
    write_json(spec.run_dir / LAUNCH_NAME, record)
    return record


def read_launch_record(run_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((run_dir / LAUNCH_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def data_drift(run_dir: Path, dataset_path: str | None) -> dict[str, Any] | None:
    """``{"trained_on", "current", "note"}`` when the dataset changed since the launch, else None."""
    record = read_launch_record(run_dir)
    if record is None or not record.get("data_fingerprint") or not dataset_path:
        return None
    if not (Path(dataset_path) / "meta" / "info.json").is_file():
        return None
    from groot_ops.data.fingerprint import dataset_fingerprint

    current = dataset_fingerprint(dataset_path)
    if current == record["data_fingerprint"]:
        return None
    return {
        "trained_on": record["data_fingerprint"],
        "current": current,
        "note": (
            f"trained on older data: {dataset_path} changed since the run was launched "
            f"({record.get('launched_at')}; data fingerprint {str(record['data_fingerprint'])[:12]} then, "
            f"{current[:12]} now). Train again into a new output_dir (or remove this run's checkpoints) "
            "to train on it."
        ),
    }
