"""Datasets that are already in the GR00T layout (``layout: groot``): adopted as they are, never converted.

A downloaded folder such as ``unitree_g1.LMPnPAppleToPlateDC`` of the GR00T X-Embodiment-Sim repo is
checked against the UNITREE_G1 loader rules (:mod:`groot_ops.data.validate`, stats aside) and then
hard-linked (copied across file systems) into the converted-datasets directory, so that the download
stays exactly as the Hub sent it and the rest of the stage (merge, stats, validation) treats it like a
converted dataset. The stats files it ships are left out: stats are recomputed from the data by
fingerprint (:func:`groot_ops.data.stats.compute_stats`), never trusted as shipped.

:func:`prepare_dataset` is the one entry point of the datasets role: it picks conversion or adoption
from the recipe's ``layout``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from groot_ops.atomic import link_or_copy, staged_directory
from groot_ops.data.fingerprint import (
    RECORD_NAME,
    STATS_FILES,
    dataset_fingerprint,
    ensure_replaceable,
    read_record,
    tool_version,
    write_record,
)
from groot_ops.errors import InputError

LAYOUTS = ("lerobot", "groot")
# Files of a downloaded GR00T dataset that are not adopted: shipped stats (recomputed) and our own record.
SKIPPED = frozenset({*STATS_FILES, RECORD_NAME})


def _adopted_files(root: Path) -> list[str]:
    """Relative paths of what is adopted: meta/, data/ and videos/, minus shipped stats."""
    found: list[str] = []
    for top in ("meta", "data", "videos"):
        base = root / top
        if base.is_dir():
            found += [p.relative_to(root).as_posix() for p in base.rglob("*") if p.is_file()]
    return sorted(rel for rel in found if rel not in SKIPPED)


def structure_problems(dataset_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """What the GR00T loader would reject in the data itself (info, modality, episodes, videos; not stats)."""
    from groot_ops.data.validate import validate_dataset

    report = validate_dataset(dataset_dir, stats=False)
    return list(report["problems"])


def _generic_problems(src: Path) -> list[dict[str, Any]]:
    """For another embodiment than UNITREE_G1: only what every GR00T dataset has (the recipe's modality
    config is checked against ``meta/modality.json`` before launch, not here)."""
    missing = [
        rel
        for rel in ("meta/modality.json", "meta/episodes.jsonl", "meta/tasks.jsonl")
        if not (src / rel).is_file()
    ]
    return [{"message": "missing file", "path": str(src / rel), "column": None} for rel in missing]


def import_groot_dataset(
    input_dir: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    *,
    embodiment_tag: str = "UNITREE_G1",
    check: bool = False,
) -> dict[str, Any]:
    """Adopt a GR00T-layout dataset into ``output_dir``; same result keys as ``convert_dataset``.

    Keys: ``changed, output, source_version ("groot"), episodes, frames, tasks, fingerprint, diff``.
    A source the loader would reject is an :class:`InputError` naming the first problem's file and
    column and how many there are; nothing is written. The UNITREE_G1 loader rules apply to that tag;
    another tag (NEW_EMBODIMENT) gets the generic checks only.
    """
    src = Path(input_dir)
    output = Path(output_dir)
    if not (src / "meta" / "info.json").is_file():
        raise InputError(
            "not a GR00T-layout dataset (no meta/info.json); check the recipe's subfolder and layout",
            path=str(src),
        )
    if output.resolve() == src.resolve():
        raise InputError("output must differ from input", path=str(output))
    problems = structure_problems(src) if embodiment_tag == "UNITREE_G1" else _generic_problems(src)
    if problems:
        first = problems[0]
        where = first.get("path") or str(src)
        column = f" [{first['column']}]" if first.get("column") else ""
        raise InputError(
            f"GR00T-layout dataset fails the {embodiment_tag} loader rules ({len(problems)} problem(s)); "
            f"first: {where}{column}: {first['message']}",
            path=str(src),
        )
    from groot_ops.data.rawread import read_jsonl

    episodes = read_jsonl(src / "meta" / "episodes.jsonl")
    summary = {
        "output": str(output),
        "source_version": "groot",
        "episodes": len(episodes),
        "frames": sum(int(e.get("length", 0)) for e in episodes),
        "tasks": len(read_jsonl(src / "meta" / "tasks.jsonl")),
    }
    wanted = {
        "kind": "groot-layout",
        "source": str(src.resolve()),
        "source_fingerprint": dataset_fingerprint(src),
        "embodiment_tag": embodiment_tag,
        "groot_ops_version": tool_version(),
    }
    files = _adopted_files(src)
    before = read_record(output)
    before_import = before.get("import")
    if (
        before_import == wanted
        and before.get("data_fingerprint") == dataset_fingerprint(output)
        and all((output / rel).is_file() for rel in files)
    ):
        return {"changed": False, **summary, "fingerprint": before["data_fingerprint"], "diff": {}}
    diff = {
        "before": {"import": before_import} if before_import else {},
        "after": {"import": wanted, **summary},
    }
    ensure_replaceable(output)
    if check:
        return {"changed": True, **summary, "fingerprint": None, "diff": diff}
    linked = 0
    with staged_directory(output) as stage:
        for rel in files:
            target = stage / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            link_or_copy(src / rel, target)
            linked += 1
        fingerprint = dataset_fingerprint(stage)
        write_record(stage, {"import": wanted, "data_fingerprint": fingerprint})
    return {"changed": True, **summary, "fingerprint": fingerprint, "files": linked, "diff": diff}


def prepare_dataset(
    src: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    *,
    layout: str = "lerobot",
    ego_camera: str = "cam_left_high",
    embodiment_tag: str = "UNITREE_G1",
    check: bool = False,
) -> dict[str, Any]:
    """Bring one downloaded dataset into the GR00T layout at ``dest``: convert (lerobot) or adopt (groot)."""
    if layout not in LAYOUTS:
        raise InputError(f"dataset layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    if layout == "groot":
        return import_groot_dataset(src, dest, embodiment_tag=embodiment_tag, check=check)
    from groot_ops.data.convert import convert_dataset

    if not ego_camera.strip():
        raise InputError("ego_camera must not be empty for a raw (lerobot) dataset")
    return convert_dataset(src, dest, ego_camera=ego_camera, check=check)
