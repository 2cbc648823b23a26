"""Loss-curve PNG from the parsed log history."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence

from groot_ops.atomic import write_bytes


def write_loss_plot(history: Sequence[dict[str, float]], path: str | os.PathLike[str], *, title: str) -> bool:
    """Write the PNG atomically; False (nothing written) when there is no point to plot yet."""
    points = [(p["step"], p["loss"]) for p in history if "step" in p and "loss" in p]
    if not points:
        return False
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    # Figure (not pyplot) keeps no global state in the long-running supervisor.
    fig = Figure(figsize=(7, 4), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    steps, losses = zip(*points, strict=False)
    ax.plot(steps, losses, linewidth=1.2)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    write_bytes(path, buffer.getvalue())
    return True
