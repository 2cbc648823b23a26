"""A recipe's training dataset from its downloaded datasets in one call: convert each, merge, stats,
validation, provenance record (module ``groot_training_dataset``).

One module call per recipe instead of a task per step and a loop item per dataset: each is a round
trip to the training container. Each step is the data engine's own idempotent function; this module
only decides which steps run (in check mode, steps whose inputs are about to change are reported, not
probed) and reports one line per dataset and step.

A NEW_EMBODIMENT recipe brings its own modality config (the file's name and, as the file lives on the
controller, its text): it is checked against the training dataset's ``meta/modality.json`` before the
stats (every key exists, widths match: :func:`groot_ops.train.modality_config.check_against_dataset`), its
RELATIVE action keys and horizon decide the relative stats (:mod:`groot_ops.data.relative`), and the
dataset is validated against the generic GR00T-layout rules plus that config instead of UNITREE_G1's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from groot_ops import atomic
from groot_ops.errors import GrootOpsError, InputError

if TYPE_CHECKING:
    from groot_ops.data.relative import RelativeSpec
    from groot_ops.train.modality_config import ModalityConfigFile

ITEM_KEYS = ("name", "raw_dir", "groot_dir")
# Optional keys: src_dir (the dataset inside raw_dir when it is a sub-folder of its repo), layout
# (lerobot: convert; groot: adopt as is), ego_camera (the raw camera; none for a GR00T-layout dataset).
OPTIONAL_KEYS = {"src_dir": "", "layout": "lerobot", "ego_camera": "cam_left_high"}


class StepError(GrootOpsError):
    """A step failed for one dataset (or the training dataset): the message names both."""


def _items(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    checked = []
    for index, item in enumerate(items):
        missing = [key for key in ITEM_KEYS if not item.get(key)]
        if missing:
            raise InputError(f"dataset #{index + 1} ({item.get('name', '?')}) lacks {', '.join(missing)}")
        entry = {key: str(item[key]) for key in ITEM_KEYS}
        for key, default in OPTIONAL_KEYS.items():
            value = item.get(key)
            entry[key] = str(value) if value not in (None, "") else default
        if entry["layout"] == "groot" and not item.get("ego_camera"):
            entry["ego_camera"] = ""
        entry["src_dir"] = entry["src_dir"] or entry["raw_dir"]
        checked.append(entry)
    if not checked:
        raise InputError("the recipe names no dataset")
    return checked


def _source(download: Mapping[str, Any], convert: Mapping[str, Any] | None) -> dict[str, Any]:
    """One dataset's provenance entry: what the download resolved and what the conversion produced."""
    item = download.get("item") or {}
    return {
        "name": item.get("name"),
        "repo_id": download.get("repo_id"),
        "requested_repo_id": item.get("repo_id"),
        "revision": download.get("revision"),
        "sha": download.get("sha"),
        "ego_camera": item.get("ego_camera"),
        "files": download.get("files"),
        "bytes": download.get("bytes"),
        "converted": item.get("groot_dir"),
        "fingerprint": (convert or {}).get("fingerprint"),
    }


def _read_record(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except ValueError:
        return {"unreadable": str(path)}


def build_training_dataset(
    items: Sequence[Mapping[str, Any]],
    training_dir: str,
    *,
    recipe: str,
    provenance_file: str,
    downloads: Sequence[Mapping[str, Any]] = (),
    pending: Sequence[str] = (),
    validate: bool = True,
    embodiment_tag: str = "UNITREE_G1",
    modality_config: str = "",
    modality_config_text: str | None = None,
    check: bool = False,
) -> dict[str, Any]:
    """Convert (or adopt, ``layout: groot``) each of ``items`` (``name``, ``raw_dir``, ``groot_dir`` and the
    optional ``src_dir``, ``layout``, ``ego_camera``), merge them into
    ``training_dir`` when more than one, compute stale stats, validate, and record the provenance.

    ``downloads``: the download job's per-dataset results (resolved repo, revision, SHA, files, bytes),
    for the provenance record. ``pending``: check mode, datasets whose download would change, so there
    is nothing to convert yet. Returns ``changed``, ``lines`` (one per dataset and step), ``converts``,
    ``merge``, ``stats``, ``validation`` (each None when not run), ``fingerprint``, ``episodes``,
    ``frames``, ``stats_fingerprint``, ``provenance`` and ``diff``.

    ``modality_config``: the recipe's modality config file (NEW_EMBODIMENT; required for that tag), read
    from ``modality_config_text`` when given (the file is on another machine), else from the path.
    """
    from groot_ops.data.groot_layout import prepare_dataset
    from groot_ops.data.merge import merge_datasets
    from groot_ops.data.stats import compute_stats
    from groot_ops.data.validate import validate_dataset

    datasets = _items(items)
    config, config_sha = _modality_config(recipe, embodiment_tag, modality_config, modality_config_text)
    lines: list[str] = []
    changed = False
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    converts: dict[str, dict[str, Any] | None] = {}
    for item in datasets:
        name = item["name"]
        if check and name in pending:
            converts[name] = None
            changed = True
            if item["layout"] == "groot":
                lines.append(
                    f"{name}: would adopt the GR00T-layout dataset {item['src_dir']} -> {item['groot_dir']} "
                    "(validated, no conversion, stats recomputed)"
                )
            else:
                lines.append(
                    f"{name}: would convert {item['src_dir']} -> {item['groot_dir']} "
                    f"(ego camera {item['ego_camera']})"
                )
            continue
        verb = "adopt" if item["layout"] == "groot" else "convert"
        try:
            result = prepare_dataset(
                item["src_dir"],
                item["groot_dir"],
                layout=item["layout"],
                ego_camera=item["ego_camera"],
                embodiment_tag=embodiment_tag,
                check=check,
            )
        except GrootOpsError as exc:
            raise StepError(f"{verb} {name}: {exc}") from exc
        converts[name] = result
        changed = changed or bool(result.get("changed"))
        _add_diff(before, after, f"{verb} {name}", result)
        done = "adopted" if verb == "adopt" else "converted"
        state = (f"would {verb}" if check else done) if result.get("changed") else "up to date"
        lines.append(
            f"{name}: {state} {item['groot_dir']} ({result.get('source_version')}, {result.get('episodes')} "
            f"episodes, {result.get('frames')} frames)"
        )
    # In check mode, later steps would read outputs that are about to change: they are reported, not probed.
    inputs_pending = check and changed
    merge: dict[str, Any] | None = None
    if len(datasets) > 1:
        names = ", ".join(item["name"] for item in datasets)
        if inputs_pending:
            lines.append(f"would merge {names} -> {training_dir}")
        else:
            try:
                merge = merge_datasets([item["groot_dir"] for item in datasets], training_dir, check=check)
            except GrootOpsError as exc:
                raise StepError(f"merge into {training_dir}: {exc}") from exc
            changed = changed or bool(merge.get("changed"))
            inputs_pending = check and bool(merge.get("changed"))
            _add_diff(before, after, "merge", merge)
            state = ("would merge" if check else "merged") if merge.get("changed") else "up to date"
            lines.append(
                f"{state} {names} -> {training_dir} "
                f"({merge.get('episodes')} episodes, {merge.get('frames')} frames)"
            )
    stats: dict[str, Any] | None = None
    validation: dict[str, Any] | None = None
    exists = (Path(training_dir) / "meta" / "info.json").is_file()
    if check and (inputs_pending or not exists):
        changed = True
        lines.append(f"would compute stats{' and validate' if validate else ''} of {training_dir}")
    else:
        relative = None
        if config is not None:
            relative = _check_config(recipe, config, training_dir, embodiment_tag)
            lines.append(
                f"modality config {config.name}: matches {training_dir}/meta/modality.json "
                f"(relative stats for {', '.join(g.name for g in relative.groups) or 'no key'}, "
                f"horizon {relative.horizon})"
            )
        try:
            stats = compute_stats(training_dir, check=check, relative=relative)
        except GrootOpsError as exc:
            raise StepError(f"stats of {training_dir}: {exc}") from exc
        changed = changed or bool(stats.get("changed"))
        _add_diff(before, after, "stats", stats)
        state = ("would compute" if check else "computed") if stats.get("changed") else "up to date"
        lines.append(f"stats of {training_dir}: {state}")
        if validate and not (check and stats.get("changed")):
            validation = validate_dataset(training_dir, modality_config=config)
            if validation.get("problems"):
                raise StepError(f"dataset {training_dir} failed GR00T validation: {_problems(validation)}")
            lines.append(
                f"{training_dir}: valid "
                f"({validation.get('episodes')} episodes, {validation.get('frames')} frames)"
            )
    built = merge if len(datasets) > 1 else converts[datasets[0]["name"]]
    by_name = {str((d.get("item") or {}).get("name")): d for d in downloads}
    record = {
        "recipe": recipe,
        "training_dataset": training_dir,
        "fingerprint": (built or {}).get("fingerprint"),
        "episodes": (built or {}).get("episodes"),
        "frames": (built or {}).get("frames"),
        "stats_fingerprint": (stats or {}).get("fingerprint"),
        **({"modality_config": {"name": config.name, "sha256": config_sha}} if config is not None else {}),
        "datasets": [
            _source(by_name[item["name"]], converts[item["name"]])
            for item in datasets
            if item["name"] in by_name
        ],
    }
    record_path = Path(provenance_file)
    recorded = _read_record(record_path)
    if recorded != record:
        changed = True
        before["provenance"], after["provenance"] = recorded, record
        lines.append(f"provenance {record_path}: {'would record' if check else 'recorded'}")
        if not check:
            atomic.write_text(record_path, json.dumps(record, indent=4, sort_keys=True) + "\n")
    return {
        "changed": changed,
        "lines": lines,
        "training_dir": training_dir,
        "converts": [converts[item["name"]] for item in datasets],
        "merge": merge,
        "stats": stats,
        "validation": validation,
        "fingerprint": record["fingerprint"],
        "episodes": record["episodes"],
        "frames": record["frames"],
        "stats_fingerprint": record["stats_fingerprint"],
        "provenance": str(record_path),
        "diff": {"before": before, "after": after},
    }


def _modality_config(
    recipe: str, embodiment_tag: str, name: str, text: str | None
) -> tuple[ModalityConfigFile | None, str]:
    """The recipe's parsed modality config and the SHA-256 of its text ((None, "") for UNITREE_G1 without
    one); a bad file is a StepError."""
    from groot_ops.train.modality_config import parse_modality_config

    if not name:
        if embodiment_tag == "NEW_EMBODIMENT":
            raise StepError(
                f"recipe {recipe}: embodiment_tag NEW_EMBODIMENT needs a modality config (recipe key "
                "modality_config); upstream fails with KeyError: 'new_embodiment'"
            )
        return None, ""
    try:
        config = parse_modality_config(name, text=text)
        source = text if text is not None else Path(name).read_text(encoding="utf-8")
    except GrootOpsError as exc:
        raise StepError(f"recipe {recipe}: {exc}") from exc
    return config, hashlib.sha256(source.encode()).hexdigest()


def _check_config(
    recipe: str, config: ModalityConfigFile, training_dir: str, embodiment_tag: str
) -> RelativeSpec:
    """The modality config against the training dataset, then its relative-stats keys (StepError on any)."""
    from groot_ops.data.relative import config_spec
    from groot_ops.train.modality_config import check_against_dataset

    problems = check_against_dataset(config, training_dir, embodiment_tag=embodiment_tag)
    if problems:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        raise StepError(f"recipe {recipe}: {problems[0]}{more}")
    try:
        return config_spec(config, Path(training_dir))
    except GrootOpsError as exc:
        raise StepError(f"recipe {recipe}: {exc}") from exc


def _add_diff(before: dict[str, Any], after: dict[str, Any], key: str, result: Mapping[str, Any]) -> None:
    diff = result.get("diff") or {}
    if result.get("changed") and diff:
        before[key], after[key] = diff.get("before"), diff.get("after")


_SHOWN_PROBLEMS = 10


def _problems(validation: Mapping[str, Any]) -> str:
    problems = list(validation.get("problems") or [])

    def describe(problem: Mapping[str, Any]) -> str:
        where = [
            f"{key} {problem[key]}" for key in ("path", "column", "episode") if problem.get(key) is not None
        ]
        return str(problem.get("message", "?")) + (f" ({', '.join(where)})" if where else "")

    shown = [describe(p) for p in problems[:_SHOWN_PROBLEMS]]
    more = len(problems) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
