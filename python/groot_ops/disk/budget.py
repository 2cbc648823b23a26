"""Preflight disk budget: can a recipe fit on the checkpoint filesystem, now or after reclaiming?

Used by the ``preflight`` role. Call::

    from groot_ops.disk.budget import recipe_budget
    verdict = recipe_budget(
        recipe,                      # the groot_recipe dict; save_total_limit read at top level or under
                                     # "training" (default 5, the Isaac-GR00T default)
        checkpoint_bytes=22 * 10**9, # learned from the last complete checkpoint, or an estimate
        dataset_bytes=...,           # bytes still to be written for datasets (raw + converted + merged)
        cache_bytes=...,             # HF cache growth still expected (base model download, ...)
        export_bytes=None,           # default: the inference-only share of a checkpoint (9.2 of 22 GB)
        free_bytes=...,              # default: measured on disk_config's watch_path
        disk_config=...,             # optional disk-guard config: measures free and reclaimable bytes
    )
    verdict["fits"], verdict["fits_after_cleanup"], verdict["shortfall_bytes"]

Checkpoints count ``save_total_limit + 1``: the trainer writes a new checkpoint before rotating the
oldest out, so the peak holds one more than the limit.
"""

from __future__ import annotations

from typing import Any

from groot_ops.errors import ConfigError

# groot-n16-contract.md §6: ~9.2 GB inference-only out of ~22 GB per checkpoint.
INFERENCE_SHARE = 9.2 / 22
DEFAULT_SAVE_TOTAL_LIMIT = 5


def save_total_limit(recipe: dict[str, Any]) -> int:
    training = recipe.get("training") if isinstance(recipe.get("training"), dict) else {}
    value = recipe.get("save_total_limit", training.get("save_total_limit", DEFAULT_SAVE_TOTAL_LIMIT))
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        name = recipe.get("name", "?")
        raise ConfigError(f"recipe {name}: save_total_limit must be an integer >= 1, got {value!r}")
    return value


def recipe_budget(
    recipe: dict[str, Any],
    *,
    checkpoint_bytes: int,
    dataset_bytes: int = 0,
    cache_bytes: int = 0,
    export_bytes: int | None = None,
    free_bytes: int | None = None,
    reclaimable_bytes: int | None = None,
    disk_config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Bytes the recipe needs and whether they fit; see the module docstring."""
    for name, value in (
        ("checkpoint_bytes", checkpoint_bytes),
        ("dataset_bytes", dataset_bytes),
        ("cache_bytes", cache_bytes),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"disk budget: {name} must be a non-negative integer, got {value!r}")
    limit = save_total_limit(recipe)
    export = int(checkpoint_bytes * INFERENCE_SHARE) if export_bytes is None else export_bytes
    parts = {
        "datasets": dataset_bytes,
        "caches": cache_bytes,
        "checkpoints": (limit + 1) * checkpoint_bytes,
        "export": export,
    }
    need = sum(parts.values())
    if disk_config is not None:
        from groot_ops.disk.policy import reclaimable_bytes as measure_reclaimable
        from groot_ops.disk.usage import disk_usage

        if free_bytes is None:
            free_bytes = disk_usage(disk_config["watch_path"])[1]
        if reclaimable_bytes is None:
            reclaimable_bytes = measure_reclaimable(disk_config)
    if free_bytes is None:
        raise ConfigError("disk budget: pass free_bytes or disk_config")
    reclaimable = reclaimable_bytes or 0
    return {
        "need_bytes": need,
        "parts": parts,
        "save_total_limit": limit,
        "checkpoint_bytes": checkpoint_bytes,
        "free_bytes": free_bytes,
        "reclaimable_bytes": reclaimable,
        "fits": free_bytes >= need,
        "fits_after_cleanup": free_bytes + reclaimable >= need,
        "shortfall_bytes": max(0, need - free_bytes - reclaimable),
    }
