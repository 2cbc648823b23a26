"""Byte counts for people: one formatter (binary units), so a plan, a status line and a model card agree."""

from __future__ import annotations

from typing import Any


def binary_size(num: Any) -> str:
    """``12 B``, ``1.5 KiB``, ... ``3.2 TiB``; ``?`` for what is not a number."""
    if isinstance(num, bool) or not isinstance(num, (int, float)):
        return "?"
    value = float(num)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"
