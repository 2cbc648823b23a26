"""Disk budget: the bytes a recipe needs, and whether they fit, now or after reclaiming.

The one implementation of the budget (datasets + caches + (save_total_limit + 1) x checkpoint size
+ export). Standard library only and no module-level import of the rest of groot_ops: the
``groot_preflight`` Ansible module ships this file to hosts as ``module_utils/groot_ops_budget.py``
(used by :mod:`groot_ops.preflight`) before the project's package exists there.

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

:func:`budget_parts` is the bytes-per-part core shared with the preflight checks.

Checkpoints count ``save_total_limit + 1``: the trainer writes a new checkpoint before rotating the
oldest out, so the peak holds one more than the limit.
"""

from __future__ import annotations

from typing import Any

# groot-n16-contract.md §6: ~9.2 GB inference-only out of ~22 GB per checkpoint.
INFERENCE_SHARE = 9.2 / 22
DEFAULT_SAVE_TOTAL_LIMIT = 5


def _config_error(message: str) -> Exception:
    # groot_ops.errors.ConfigError inside the package; a plain ValueError as module_utils.
    try:
        from groot_ops.errors import ConfigError
    except ImportError:  # shipped as Ansible module_utils: groot_ops is not installed on the host
        return ValueError(message)
    return ConfigError(message)


def save_total_limit(recipe: dict[str, Any]) -> int:
    training = recipe.get("training") if isinstance(recipe.get("training"), dict) else {}
    value = recipe.get("save_total_limit", training.get("save_total_limit", DEFAULT_SAVE_TOTAL_LIMIT))
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        name = recipe.get("name", "?")
        raise _config_error(f"recipe {name}: save_total_limit must be an integer >= 1, got {value!r}")
    return value


def budget_parts(
    *,
    checkpoint_bytes: int,
    save_total_limit: int,
    dataset_bytes: int = 0,
    cache_bytes: int = 0,
    export_bytes: int | None = None,
) -> dict[str, int]:
    """Bytes per part: ``datasets``, ``caches``, ``checkpoints``, ``export``.

    ``checkpoints`` is ``(save_total_limit + 1) * checkpoint_bytes``; a ``save_total_limit`` of 0
    means no checkpoints are written (0 bytes). ``export_bytes=None`` is the inference-only share
    of a checkpoint. Raises ``ValueError`` for a negative or non-integer size.
    """
    for name, value in (
        ("checkpoint_bytes", checkpoint_bytes),
        ("save_total_limit", save_total_limit),
        ("dataset_bytes", dataset_bytes),
        ("cache_bytes", cache_bytes),
        ("export_bytes", 0 if export_bytes is None else export_bytes),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"disk budget: {name} must be >= 0 (a non-negative integer), got {value!r}")
    return {
        "datasets": dataset_bytes,
        "caches": cache_bytes,
        "checkpoints": (save_total_limit + 1) * checkpoint_bytes if save_total_limit else 0,
        "export": int(checkpoint_bytes * INFERENCE_SHARE) if export_bytes is None else export_bytes,
    }


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
    limit = save_total_limit(recipe)
    try:
        parts = budget_parts(
            checkpoint_bytes=checkpoint_bytes,
            save_total_limit=limit,
            dataset_bytes=dataset_bytes,
            cache_bytes=cache_bytes,
            export_bytes=export_bytes,
        )
    except ValueError as exc:
        raise _config_error(str(exc)) from None
    need = sum(parts.values())
    if disk_config is not None:
        from groot_ops.disk.policy import reclaimable_bytes as measure_reclaimable
        from groot_ops.disk.usage import disk_usage

        if free_bytes is None:
            free_bytes = disk_usage(disk_config["watch_path"])[1]
        if reclaimable_bytes is None:
            reclaimable_bytes = measure_reclaimable(disk_config)
    if free_bytes is None:
        raise _config_error("disk budget: pass free_bytes or disk_config")
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
