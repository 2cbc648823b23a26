"""What to publish: the checkpoint, and its provenance as the training launch recorded it.

The model card must describe what the model was trained on. Training is a no-op when its command line
is unchanged, so the recipe and the datasets' provenance as they are at publish time may name a moved
branch's newer commit that this model never saw. The supervisor writes ``runs/<recipe>/launch.json``
when it launches a run (unchanged by resumes); publish reads dataset SHAs, fingerprints, flags and
commits from there only.

A run without a launch record fails: a card reconstructed at publish time would be a guess presented as
fact, on a public page. Whoever knows what such a run was trained on can write the record by hand (the
schema is in ``docs/publish-deploy.md``); nothing falls back silently.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from groot_ops.errors import InputError
from groot_ops.hub.export import CHECKPOINT_RE, choose_checkpoint
from groot_ops.hub.modelcard import public_flags

LAUNCH_RECORD = "launch.json"
# The launch record's schema (brief "Shared decisions"); these must be present to publish.
LAUNCH_REQUIRED = (
    "recipe",
    "groot_ops_commit",
    "isaac_groot_commit",
    "base_model",
    "embodiment_tag",
    "datasets",
    "data_fingerprint",
    "flags",
)


def read_launch_record(run_dir: str | os.PathLike[str], recipe: str) -> dict[str, Any]:
    """``run_dir/launch.json``, checked; InputError naming the file and what is wrong otherwise."""
    path = Path(run_dir) / LAUNCH_RECORD
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(
            "no launch record: the model card takes dataset SHAs, data and stats fingerprints, flags and "
            "commits from the record the training wrote when it was launched, and this run has none "
            "(launched by hand or by an older groot-ops). Re-launch the training, or write the record by "
            "hand (schema in docs/publish-deploy.md) if you know what the run was trained on",
            path=str(path),
        ) from None
    except (OSError, ValueError) as exc:
        raise InputError(f"unreadable launch record ({exc})", path=str(path)) from None
    if not isinstance(record, dict):
        raise InputError("launch record is not a JSON object", path=str(path))
    missing = [key for key in LAUNCH_REQUIRED if record.get(key) in (None, "", [])]
    if missing:
        raise InputError(f"launch record lacks {', '.join(missing)}", path=str(path))
    if record["recipe"] != recipe:
        raise InputError(
            f"launch record is of recipe {record['recipe']!r}, not {recipe!r}: wrong run directory",
            path=str(path),
        )
    base = record["base_model"]
    if not isinstance(base, dict) or not base.get("id"):
        raise InputError("launch record base_model must be {id, revision}", path=str(path))
    if not isinstance(record["flags"], dict) or not isinstance(record["datasets"], list):
        raise InputError("launch record flags must be a mapping and datasets a list", path=str(path))
    return record


def trainer_progress(checkpoint: Path) -> tuple[int, float | None]:
    """``global_step`` and the last logged loss of ``checkpoint/trainer_state.json``."""
    path = checkpoint / "trainer_state.json"
    try:
        state = json.loads(path.read_text())
        step = int(state["global_step"])
    except FileNotFoundError:
        raise InputError("checkpoint has no trainer_state.json", path=str(path)) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"unreadable trainer state ({exc})", path=str(path)) from None
    losses = [e["loss"] for e in state.get("log_history") or [] if isinstance(e, dict) and "loss" in e]
    return step, (float(losses[-1]) if losses else None)


def _warm_start(source: Any) -> dict[str, Any] | None:
    """The Hub model a warm start began from ({repo_id, revision, sha}), when the launch record names one."""
    if not isinstance(source, dict) or not source.get("repo_id"):
        return None
    return {k: source.get(k) for k in ("repo_id", "revision", "sha")}


def card_provenance(record: dict[str, Any], *, steps: int, final_loss: float | None, isaac_groot_repo: str):
    """The model card's provenance (``groot_ops.hub.modelcard`` schema) from a launch record."""
    modality = record.get("modality_config")
    base = record["base_model"]
    return {
        "recipe": record["recipe"],
        "launched_at": record.get("launched_at"),
        "datasets": [
            {k: ds.get(k) for k in ("name", "repo_id", "revision", "sha")} for ds in record["datasets"]
        ],
        "data_fingerprint": record["data_fingerprint"],
        "stats_fingerprint": record.get("stats_fingerprint"),
        "isaac_groot": {"repo": isaac_groot_repo, "commit": record["isaac_groot_commit"]},
        "groot_ops_commit": record["groot_ops_commit"],
        "groot_ops_dirty": bool(record.get("groot_ops_dirty")),
        "base_model": base["id"],
        "base_model_revision": base.get("revision"),
        "embodiment_tag": record["embodiment_tag"],
        "modality_config": (
            {"file": os.path.basename(str(modality.get("path", ""))), "sha256": modality.get("sha256")}
            if isinstance(modality, dict)
            else None
        ),
        "warm_start": _warm_start(record.get("warm_start")),
        "training_flags": public_flags(record["flags"]),
        "steps": steps,
        "final_loss": final_loss,
    }


def publish_source(
    output_dir: str | os.PathLike[str],
    *,
    run_dir: str | os.PathLike[str],
    recipe: str,
    exports_dir: str | os.PathLike[str],
    step: int | None = None,
    isaac_groot_repo: str = "NVIDIA/Isaac-GR00T",
    check: bool = False,
) -> dict[str, Any]:
    """The checkpoint to publish (``step``, else the newest servable one), its export dir and provenance.

    Returns ``changed (False), checkpoint, step, export_dir, provenance, pending``. In check mode a
    run that has no servable checkpoint or launch record yet (the training of the same dry run would
    make them) returns ``pending``, the reason, instead of failing.
    """
    try:
        checkpoint = choose_checkpoint(output_dir, step)
        steps, final_loss = trainer_progress(checkpoint)
        record = read_launch_record(run_dir, recipe)
    except InputError as exc:
        if check:
            return {"changed": False, "pending": str(exc), "checkpoint": None, "provenance": None}
        raise
    match = CHECKPOINT_RE.match(checkpoint.name)
    number = int(match.group(1)) if match else steps
    return {
        "changed": False,
        "pending": None,
        "checkpoint": str(checkpoint),
        "step": number,
        "export_dir": str(Path(exports_dir) / f"step-{number}"),
        "provenance": card_provenance(
            record, steps=steps, final_loss=final_loss, isaac_groot_repo=isaac_groot_repo
        ),
    }
