"""One human line per run status, shared by the CLI, the module and the status playbook."""

from __future__ import annotations

from typing import Any


def _size(value: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover


def progress_line(status: dict[str, Any]) -> str:
    parts = [f"{status.get('recipe')}: {status.get('state')}"]
    if status.get("step") is not None:
        parts.append(f"step {status.get('step')}/{status.get('max_steps')}")

    def num(key: str) -> float | None:
        value = status.get(key)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    loss, it_s, eta, free = num("loss"), num("it_s"), num("eta_s"), num("disk_free_bytes")
    if loss is not None:
        parts.append(f"loss {loss:.4f}")
    if it_s is not None:
        parts.append(f"{it_s:.2f} it/s")
    if eta is not None and status.get("state") in ("running", "saving", "compiling"):
        parts.append(f"ETA {eta / 60:.1f} min")
    if status.get("last_checkpoint"):
        parts.append(f"last checkpoint {str(status['last_checkpoint']).rstrip('/').rsplit('/', 1)[-1]}")
    if free is not None:
        parts.append(f"disk free {_size(free)}")
    line = ", ".join(parts)
    failure = status.get("failure")
    if isinstance(failure, dict) and str(status.get("state", "")).startswith("failed:"):
        line += f". {failure.get('message')} Advice: {failure.get('advice')}"
    return line
