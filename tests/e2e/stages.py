"""Which pipeline stages exist: a stage whose playbook is still the placeholder is not called."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Each stage needs the one before it; preflight is read-only and stands alone.
PIPELINE = ("provision", "datasets", "train", "publish", "deploy")
INDEPENDENT = ("preflight",)
PLACEHOLDER_MARK = "is not implemented yet"


def implemented(stage: str) -> bool:
    path = REPO / "playbooks" / f"{stage}.yml"
    return path.exists() and PLACEHOLDER_MARK not in path.read_text()


def built_prefix() -> list[str]:
    """The stages that can run in order: everything up to the first one not built yet."""
    stages = []
    for stage in PIPELINE:
        if not implemented(stage):
            break
        stages.append(stage)
    return stages
