"""Fingerprints of datasets, and the ``meta/groot_ops.json`` record that carries them.

A fingerprint is a SHA-256 over the relative path and content of every file the data depends
on. Stats are fresh only when the fingerprint recorded with them equals the current one, so
re-converted or re-merged data can never be trained with the stats of older data (defect 5).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from groot_ops import __version__
from groot_ops.atomic import write_json

RECORD_NAME = "meta/groot_ops.json"
RECORD_SCHEMA = 1
# Bump when the stats numbers would change for the same data (algorithm or format).
# 2: bounded-memory engine, files in upstream's layout, digests of the values (not the bytes).
STATS_ALGORITHM = 2
# Files of a GR00T dataset that define its content; stats, the record itself and videos are not part.
DATASET_META_FILES: tuple[str, ...] = (
    "meta/info.json",
    "meta/episodes.jsonl",
    "meta/tasks.jsonl",
    "meta/modality.json",
)
STATS_FILES: tuple[str, ...] = ("meta/stats.json", "meta/relative_stats.json")


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def digest_files(
    root: Path, relpaths: Iterable[str], *, content: bool = True, known: dict[str, str] | None = None
) -> str:
    """Digest of the named files under ``root``: content hash, or size and mtime when ``content`` is off.

    ``known`` holds content digests already computed while the files were read or written, so
    that writers need not read their output back. A missing file is part of the digest (as
    missing), so adding or removing one changes it.
    """
    outer = hashlib.sha256()
    known = known or {}
    for rel in sorted(relpaths):
        path = root / rel
        outer.update(rel.encode() + b"\0")
        if rel in known:
            outer.update(known[rel].encode() + b"\0")
        elif not path.is_file():
            outer.update(b"<missing>\0")
        elif content:
            outer.update(file_digest(path).encode() + b"\0")
        else:
            st = path.stat()
            outer.update(f"{st.st_size}:{st.st_mtime_ns}\0".encode())
    return outer.hexdigest()


def _data_files(root: Path) -> list[str]:
    data = root / "data"
    if not data.is_dir():
        return []
    return [p.relative_to(root).as_posix() for p in data.rglob("*.parquet")]


def dataset_fingerprint(dataset_dir: str | os.PathLike[str], *, known: dict[str, str] | None = None) -> str:
    """Fingerprint of a GR00T dataset: its meta files and every parquet file, by content."""
    root = Path(dataset_dir)
    return digest_files(root, [*DATASET_META_FILES, *_data_files(root)], known=known)


def bytes_digest(data: bytes | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()


def read_record(dataset_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The dataset's ``meta/groot_ops.json``, or ``{}`` when absent or unreadable."""
    path = Path(dataset_dir) / RECORD_NAME
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def write_record(dataset_dir: str | os.PathLike[str], record: dict[str, Any]) -> None:
    record = {**record, "schema": RECORD_SCHEMA}
    write_json(Path(dataset_dir) / RECORD_NAME, record)


def stats_json_bytes(stats: Any) -> bytes:
    """A stats file exactly as upstream writes one: ``json.dump(..., indent=4)``, no trailing newline.

    Upstream's trainer loads ``meta/relative_stats.json`` and dumps it again this way at every launch
    (gr00t/data/stats.py ``generate_rel_stats``); written like this, the rewrite changes no byte.
    """
    return json.dumps(stats, indent=4).encode()


def stats_values_digest(path: Path) -> str | None:
    """Digest of a stats file's values, blind to layout: a rewrite with the same numbers keeps it.

    Freshness compares values, not bytes: upstream's rewrite of ``relative_stats.json`` at every
    launch (same values, its own layout) must not make the stats stale, while any changed number
    must. ``None`` when the file is missing or not JSON.
    """
    try:
        values = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return bytes_digest(json.dumps(values, sort_keys=True, separators=(",", ":")).encode())


def stats_record(
    dataset_dir: str | os.PathLike[str], *, horizon: int, relative: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What ``meta/groot_ops.json`` must hold under ``stats`` for the current data to have fresh stats.

    ``relative``: a NEW_EMBODIMENT modality config's RELATIVE keys and their slices
    (``groot_ops.data.relative.RelativeSpec.record``); absent for UNITREE_G1, whose record is unchanged.
    """
    root = Path(dataset_dir)
    record: dict[str, Any] = {
        "fingerprint": dataset_fingerprint(root),
        "horizon": horizon,
        "algorithm": STATS_ALGORITHM,
        "files": {rel: stats_values_digest(root / rel) for rel in STATS_FILES},
    }
    if relative is not None:
        record["relative"] = relative
    return record


def stats_problems(
    dataset_dir: str | os.PathLike[str], *, horizon: int = 30, relative: dict[str, Any] | None = None
) -> list[str]:
    """Why the stats of a dataset are not fresh (empty list: fresh).

    ``relative`` as in :func:`stats_record`: stats computed for other RELATIVE keys (UNITREE_G1's, or another
    modality config's) are stale.
    """
    from groot_ops.data.schema import ACTION_HORIZON

    horizon = horizon or ACTION_HORIZON
    root = Path(dataset_dir)
    missing = [rel for rel in STATS_FILES if not (root / rel).is_file()]
    if missing:
        return [f"missing {', '.join(missing)}"]
    recorded = read_record(root).get("stats")
    if not isinstance(recorded, dict):
        return [f"no stats fingerprint in {RECORD_NAME}: stats of unknown origin"]
    current = stats_record(root, horizon=horizon, relative=relative)
    problems = []
    if recorded.get("fingerprint") != current["fingerprint"]:
        problems.append("stats were computed from different data (fingerprint mismatch)")
    if recorded.get("horizon") != horizon:
        problems.append(f"stats were computed for horizon {recorded.get('horizon')}, expected {horizon}")
    if recorded.get("relative") != relative:

        def keys(spec: Any) -> str:
            if not spec:
                return "left_arm, right_arm (UNITREE_G1)"
            return ", ".join(spec.get("keys") or {}) or "none"

        problems.append(
            f"stats were computed for relative keys {keys(recorded.get('relative'))}, expected "
            f"{keys(relative)}"
        )
    if recorded.get("algorithm") != STATS_ALGORITHM:
        problems.append("stats were computed by another stats algorithm version")
    if recorded.get("files") != current["files"]:
        problems.append("stats values were changed after they were computed")
    return problems


def stats_are_fresh(dataset_dir: str | os.PathLike[str]) -> bool:
    """True when ``meta/stats.json`` and ``meta/relative_stats.json`` belong to the current data."""
    return not stats_problems(dataset_dir)


def tool_version() -> str:
    return __version__


def ensure_replaceable(output: str | os.PathLike[str], *, marker: str = RECORD_NAME) -> None:
    """Refuse to replace a non-empty directory that this tool did not produce.

    Writers replace their output as a whole; without this guard a mistyped ``--output`` (a home
    directory, a raw download) would be deleted.
    """
    from groot_ops.errors import InputError

    path = Path(output)
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise InputError("output exists and is not a directory", path=str(path))
    if path.is_dir() and any(path.iterdir()) and not (path / marker).is_file():
        raise InputError(
            f"output is a non-empty directory without {marker}: not replacing what groot-ops did not write "
            "(remove it or choose another output)",
            path=str(path),
        )
