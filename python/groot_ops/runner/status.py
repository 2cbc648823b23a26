"""Collect training, disk and deployment status from the results of a ``status.yml`` run."""

from __future__ import annotations

from typing import Any

from groot_ops.runner.events import EventRecorder


def _find_dict_with(value: Any, key: str) -> dict[str, Any] | None:
    """The first mapping, depth first, that holds ``key`` with a value (results nest: loops, msg dicts)."""
    if isinstance(value, dict):
        if value.get(key) is not None:
            return value
        value = list(value.values())
    if isinstance(value, list):
        for inner in value:
            found = _find_dict_with(inner, key)
            if found is not None:
                return found
    return None


def _find_key(value: Any, key: str) -> Any:
    found = _find_dict_with(value, key)
    return found[key] if found is not None else None


def collect_status(recorder: EventRecorder, recipe: str | None) -> dict[str, Any]:
    """The machine-readable status: at least recipe, state, step, max_steps, loss, deployed_revision."""
    training = None
    for progress in recorder.training.values():
        if recipe is None or progress.recipe in (None, recipe):
            training = progress
            break
    deployed: dict[str, Any] | None = None
    disk_free = None
    loss_plot = None
    for entry in recorder.results:
        res = entry["res"]
        if deployed is None:
            deployed = _find_dict_with(res, "deployed_revision")
        if disk_free is None:
            disk_free = _find_key(res, "disk_free_bytes")
        if loss_plot is None:
            loss_plot = _find_key(res, "loss_plot")
    return {
        "recipe": recipe if recipe is not None else (training.recipe if training else None),
        "state": training.state if training else None,
        "step": training.step if training else None,
        "max_steps": training.max_steps if training else None,
        "loss": training.loss if training else None,
        "it_s": training.it_s if training and not training.failed else None,
        # A failed run is going nowhere: no ETA, its failure instead.
        "eta_s": training.eta_s if training and not training.failed else None,
        "failure": training.failure if training else None,
        "host": training.host if training else None,
        "disk_free_bytes": disk_free,
        "deployed_revision": deployed.get("deployed_revision") if deployed else None,
        "deployed_repo_id": deployed.get("repo_id") if deployed else None,
        "loss_plot": loss_plot,
        # Everything the deploy's status reported for the served model (health, container), as it is.
        "deployed": deployed,
        # ansible-playbook's own errors: the status run itself failed (a vault it cannot decrypt, ...).
        "errors": list(recorder.errors),
    }
