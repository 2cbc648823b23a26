"""Loss-curve PNG of a whole run across attempts, with resumes, failures and a divergence marked."""

from __future__ import annotations

import io
import os
from typing import Any

from groot_ops.atomic import write_bytes
from groot_ops.train.history import plottable


def write_loss_plot(history: dict[str, Any], path: str | os.PathLike[str], *, title: str) -> bool:
    """Write the PNG atomically from :func:`groot_ops.train.history.run_history`; False when nothing to plot.

    Solid: the loss as the newest checkpoint's ``trainer_state.json`` records it (step 0 to its step, over
    every resume). Dashed: steps no checkpoint holds (lost with a failed attempt, or not saved yet).
    Dotted verticals: resumes; red crosses: failed attempts (their class); a red band: from the first
    NaN/inf loss or grad_norm on (those losses are not drawn: HF logs 0.0 for all-NaN windows).
    """
    saved = [(p["step"], p["loss"]) for p in history.get("points") or [] if plottable(p)]
    unsaved = [(p["step"], p["loss"]) for p in history.get("unsaved") or [] if plottable(p)]
    if not saved and not unsaved and not history.get("failures"):
        return False
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    # Figure (not pyplot) keeps no global state in the long-running supervisor.
    fig = Figure(figsize=(7, 4), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    if saved:
        steps, losses = zip(*saved, strict=True)
        ax.plot(steps, losses, linewidth=1.2, color="tab:blue", label="loss (trainer_state.json)")
    if unsaved:
        tail = ([saved[-1]] if saved else []) + unsaved
        steps, losses = zip(*tail, strict=True)
        ax.plot(steps, losses, linewidth=1.0, linestyle="--", color="tab:gray", label="not in a checkpoint")
    known = saved + unsaved
    for index, resume in enumerate(history.get("resumes") or []):
        ax.axvline(resume["step"], linestyle=":", color="tab:green", label="resume" if index == 0 else None)
    for failure in history.get("failures") or []:
        step = failure.get("step")
        if step is None:
            continue
        before = [loss for s, loss in known if s <= step]
        y = before[-1] if before else (known[0][1] if known else 0.0)
        ax.plot([step], [y], marker="x", color="tab:red", markersize=9)
        ax.annotate(
            str(failure.get("class")), (step, y), textcoords="offset points", xytext=(4, 6), fontsize=8
        )
    bad = history.get("nonfinite")
    if bad:
        ax.axvspan(bad["step"], max([bad["step"], *(s for s, _ in known)]) + 1, color="tab:red", alpha=0.12)
        ax.axvline(bad["step"], color="tab:red", linewidth=1.0, label=f"NaN/inf from step {bad['step']}")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    write_bytes(path, buffer.getvalue())
    return True
