"""The export step of publish: the model and its card, from the checkpoint publish chooses.

``export_with_card`` is the export (``groot_ops.hub.export``) plus the model card
(``groot_ops.hub.modelcard``) of one checkpoint; ``export_from_source`` first chooses that checkpoint
and reads its launch record (``groot_ops.hub.provenance.publish_source``), so that publish needs one
module run on the training host for both, not two.
"""

from __future__ import annotations

import os
from typing import Any

from groot_ops.hub.export import export_inference_model
from groot_ops.hub.modelcard import render_model_card, write_model_card
from groot_ops.hub.provenance import publish_source


def export_with_card(
    checkpoint_dir: str | os.PathLike[str],
    export_dir: str | os.PathLike[str],
    *,
    provenance: dict[str, Any] | None = None,
    loss_curve: str | os.PathLike[str] | None = None,
    step: int | None = None,
    check: bool = False,
) -> dict[str, Any]:
    """The export's result, with ``card`` and ``card_changed`` when ``provenance`` is given."""
    result = export_inference_model(checkpoint_dir, export_dir, check=check, step=step)
    result["card_changed"] = False
    if provenance is None:
        return result
    provenance = dict(provenance)
    provenance.setdefault("files", result["files"])
    if check and result["changed"]:
        # The export does not exist yet in check mode: validate and render without writing.
        card_result = {
            "changed": True,
            "card": f"{export_dir}/README.md",
            "diff": {"before": "", "after": render_model_card(provenance)},
        }
    else:
        card_result = write_model_card(export_dir, provenance, loss_curve=loss_curve, check=check)
    result["card"] = card_result["card"]
    result["card_changed"] = card_result["changed"]
    result["changed"] = result["changed"] or card_result["changed"]
    result["diff"] = [
        {"before_header": "export files", "after_header": "export files", **result["diff"]},
        {"before_header": "README.md", "after_header": "README.md", **card_result["diff"]},
    ]
    return result


def export_from_source(
    source: dict[str, Any], *, loss_curve: str | os.PathLike[str] | None = None, check: bool = False
) -> dict[str, Any]:
    """``publish_source(**source)`` then the export and card of its checkpoint.

    Returns the export's result plus the source's ``pending``, ``step`` and ``provenance``. In check mode
    a run without a checkpoint or launch record yet returns ``pending`` (the reason) and exports nothing.
    """
    chosen = publish_source(
        source["output_dir"],
        run_dir=source["run_dir"],
        recipe=source["recipe"],
        exports_dir=source["exports_dir"],
        step=source.get("step") or None,
        isaac_groot_repo=source.get("isaac_groot_repo") or "NVIDIA/Isaac-GR00T",
        check=check,
    )
    if chosen["pending"] is not None:
        return {**chosen, "files": [], "card_changed": False}
    result = export_with_card(
        chosen["checkpoint"],
        chosen["export_dir"],
        provenance=chosen["provenance"],
        loss_curve=loss_curve,
        check=check,
    )
    return {**result, "pending": None, "step": chosen["step"], "provenance": chosen["provenance"]}
