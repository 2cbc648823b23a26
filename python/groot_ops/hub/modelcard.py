"""Model card (``README.md`` with YAML front matter) rendered from what actually happened.

Provenance schema (the dict given to :func:`render_model_card`)::

    recipe:            str                      recipe name, e.g. "hospitality-7ds"
    datasets:          [{name, repo_id, revision, sha}]   sha = 40-hex Hub commit
    isaac_groot:       {repo, commit}           public repo name/URL, 40-hex commit
    groot_ops_commit:  str                      40-hex commit of this repository
    base_model:        str                      e.g. "nvidia/GR00T-N1.6-3B"
    embodiment_tag:    str                      e.g. "UNITREE_G1"
    training_flags:    {flag: value}            every flag given to launch_finetune.py
    steps:             int                      steps reached
    final_loss:        float | None
    loss_curve:        str | None               file name of the PNG next to the card
    files:             [{path, size}]           the export's file list
    optional, from the training's launch record (groot_ops.hub.provenance):
    launched_at:       str                      when the run was launched
    data_fingerprint:  str                      fingerprint of the training dataset at launch
    stats_fingerprint: str                      fingerprint of its normalization stats at launch
    groot_ops_dirty:   bool                     the launching checkout had uncommitted changes
    base_model_revision: str | None             the base model's revision at launch
    modality_config:   {file, sha256} | None    a --modality_config_path file, by name and hash
    warm_start:        {repo_id, revision, sha} | None   the Hub model a warm start began from

Every string is checked: local paths, host names/IP addresses and tokens are refused, because
the card is public the moment the repo is. :func:`public_flags` turns path-valued training flags
into their last component before they reach the card.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import yaml

from groot_ops.atomic import write_bytes, write_text
from groot_ops.errors import InputError
from groot_ops.units import binary_size

SHA_RE = re.compile(r"^[0-9a-f]{40}$")
TOKEN_RE = re.compile(r"(hf_[A-Za-z0-9]{8,}|api_[A-Za-z0-9]{16,}|Bearer\s)")
PATH_RE = re.compile(r"(^(/|~/|\./|\.\./)|^[A-Za-z]:\\|file://|/(home|root|workspace|tmp|mnt|data)/)")
HOST_RE = re.compile(
    r"(\b\d{1,3}(\.\d{1,3}){3}\b|\blocalhost\b|\b[\w-]+\.(local|lan|internal|home)\b|://[^/]*:\d+)",
    re.IGNORECASE,
)
SECRET_KEY_RE = re.compile(r"(token|password|passwd|secret|api_key|credential)", re.IGNORECASE)
REQUIRED = (
    "recipe",
    "datasets",
    "isaac_groot",
    "groot_ops_commit",
    "base_model",
    "embodiment_tag",
    "training_flags",
    "steps",
    "files",
)

OPTIONAL = (
    "launched_at",
    "data_fingerprint",
    "stats_fingerprint",
    "groot_ops_dirty",
    "base_model_revision",
    "modality_config",
    "warm_start",
)


def _check_public(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if SECRET_KEY_RE.search(str(key)):
                raise InputError(f"model card provenance must not carry secrets: key {where}.{key}")
            _check_public(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_public(item, f"{where}[{i}]")
    elif isinstance(value, str):
        for regex, what in ((TOKEN_RE, "a token"), (PATH_RE, "a local path"), (HOST_RE, "a host name")):
            if regex.search(value):
                raise InputError(f"model card provenance {where} looks like {what}: refusing to publish it")


def _check_sha(value: Any, where: str) -> None:
    if not isinstance(value, str) or not SHA_RE.match(value):
        raise InputError(f"model card provenance {where} must be a 40-hex commit sha, got {value!r}")


def validate_provenance(provenance: dict[str, Any]) -> None:
    missing = [key for key in REQUIRED if key not in provenance]
    if missing:
        raise InputError(f"model card provenance lacks: {', '.join(missing)}")
    if not provenance["datasets"]:
        raise InputError("model card provenance lists no datasets")
    for i, ds in enumerate(provenance["datasets"]):
        for key in ("name", "repo_id", "revision", "sha"):
            if not ds.get(key):
                raise InputError(f"model card provenance datasets[{i}] lacks {key}")
        _check_sha(ds["sha"], f"datasets[{i}].sha")
    if provenance.get("warm_start") is not None:
        _check_sha(provenance["warm_start"].get("sha"), "warm_start.sha")
    _check_sha(provenance["isaac_groot"].get("commit"), "isaac_groot.commit")
    _check_sha(provenance["groot_ops_commit"], "groot_ops_commit")
    if not isinstance(provenance["training_flags"], dict):
        raise InputError("model card provenance training_flags must be a mapping of flag to value")
    _check_public(provenance, "provenance")


def public_flags(flags: dict[str, Any]) -> dict[str, Any]:
    """Path-valued flags reduced to their last component (the card must not leak host layout)."""

    def clean(value: Any) -> Any:
        if isinstance(value, str) and PATH_RE.search(value):
            return os.path.basename(value.rstrip("/")) or value
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return {key: clean(value) for key, value in flags.items()}


def _modality_lines(modality: Any) -> list[str]:
    """The --modality_config_path file a NEW_EMBODIMENT model was trained with (from groot-ops' inventory)."""
    if not isinstance(modality, dict):
        return []
    return [
        f"- Modality config (`--modality_config_path`): `{modality.get('file')}`, "
        f"sha256 `{modality.get('sha256') or 'not recorded'}`"
    ]


def render_model_card(provenance: dict[str, Any]) -> str:
    """The card text; deterministic for the same provenance, so re-runs upload nothing."""
    validate_provenance(provenance)
    p = provenance
    front = {
        "library_name": "gr00t",
        "pipeline_tag": "robotics",
        "tags": ["gr00t", "gr00t-n1.6", "robotics", "unitree-g1", str(p["embodiment_tag"]).lower()],
        "base_model": p["base_model"],
        "datasets": [ds["repo_id"] for ds in p["datasets"]],
        "groot_ops": {
            "recipe": p["recipe"],
            "datasets": [dict(ds) for ds in p["datasets"]],
            "isaac_groot": dict(p["isaac_groot"]),
            "groot_ops_commit": p["groot_ops_commit"],
            "embodiment_tag": p["embodiment_tag"],
            "steps": p["steps"],
            "final_loss": p.get("final_loss"),
        },
    }
    for key in OPTIONAL:
        if p.get(key) is not None:
            front["groot_ops"][key] = p[key]
    lines = [
        "---",
        yaml.safe_dump(front, sort_keys=False).rstrip(),
        "---",
        "",
        f"# GR00T N1.6 fine-tuned for the Unitree G1: `{p['recipe']}`",
        "",
        f"Fine-tuned from `{p['base_model']}` for embodiment `{p['embodiment_tag']}` "
        f"for {p['steps']} steps (final loss: {p.get('final_loss', 'n/a')}).",
        *(
            [
                f"Warm-started from `{p['warm_start']['repo_id']}` at commit `{p['warm_start']['sha']}` "
                f"(revision `{p['warm_start']['revision']}`).",
            ]
            if p.get("warm_start")
            else []
        ),
        "This directory is an inference-only export: it loads with Isaac-GR00T's "
        "`run_gr00t_server.py` and cannot resume training.",
        "",
        "## Datasets",
        "",
        "| name | Hub repo | revision | commit |",
        "|---|---|---|---|",
        *[f"| {d['name']} | `{d['repo_id']}` | `{d['revision']}` | `{d['sha']}` |" for d in p["datasets"]],
        "",
        *(
            [
                f"Training data fingerprint `{p['data_fingerprint']}`, "
                f"stats `{p.get('stats_fingerprint') or 'not recorded'}`",
                "",
            ]
            if p.get("data_fingerprint")
            else []
        ),
        "## Code",
        "",
        f"- Isaac-GR00T: `{p['isaac_groot']['repo']}` at `{p['isaac_groot']['commit']}`",
        f"- groot-ops: `{p['groot_ops_commit']}`"
        + (" (with uncommitted changes)" if p.get("groot_ops_dirty") else ""),
        *_modality_lines(p.get("modality_config")),
        "",
        "## Training flags",
        "",
        "```json",
        json.dumps(p["training_flags"], indent=2, sort_keys=True),
        "```",
        "",
    ]
    if p.get("loss_curve"):
        lines += ["## Loss curve", "", f"![training loss]({p['loss_curve']})", ""]
    lines += ["## Files", "", "| file | size |", "|---|---|"]
    lines += [
        f"| `{f['path']}` | {binary_size(int(f['size']))} |"
        for f in sorted(p["files"], key=lambda f: f["path"])
    ]
    return "\n".join(lines) + "\n"


def write_model_card(
    export_dir: str | os.PathLike[str],
    provenance: dict[str, Any],
    *,
    loss_curve: str | os.PathLike[str] | None = None,
    check: bool = False,
) -> dict[str, Any]:
    """Write ``README.md`` (and ``loss_curve.png`` when given) into ``export_dir``, atomically.

    Returns ``changed, card, diff``; unchanged content is not rewritten.
    """
    export = Path(export_dir)
    if not export.is_dir():
        raise InputError("export directory does not exist; export the checkpoint first", path=str(export))
    png: bytes | None = None
    if loss_curve is not None:
        try:
            png = Path(loss_curve).read_bytes()
        except FileNotFoundError:
            raise InputError("loss curve image does not exist", path=str(loss_curve)) from None
        provenance = {**provenance, "loss_curve": "loss_curve.png"}
    card = render_model_card(provenance)
    readme = export / "README.md"
    before = readme.read_text() if readme.is_file() else ""
    png_path = export / "loss_curve.png"
    png_changed = png is not None and (not png_path.is_file() or png_path.read_bytes() != png)
    changed = before != card or png_changed
    if changed and not check:
        if png_changed and png is not None:
            write_bytes(png_path, png)
        if before != card:
            write_text(readme, card)
    return {"changed": changed, "card": str(readme), "diff": {"before": before, "after": card}}
