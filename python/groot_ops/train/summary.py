"""One human line per run status, shared by the CLI, the module and the status playbook."""

from __future__ import annotations

from typing import Any

from groot_ops.units import binary_size


def progress_line(status: dict[str, Any]) -> str:
    state = str(status.get("state", ""))
    live = state in ("starting", "running", "saving", "compiling")
    head = f"{status.get('recipe')}: {state}"
    if live and status.get("phase"):
        head += f" ({status['phase']})"  # e.g. the base model's shards loading before any step
    parts = [head]
    if status.get("step") is not None:
        parts.append(f"step {status.get('step')}/{status.get('max_steps')}")

    def num(key: str) -> float | None:
        value = status.get(key)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    loss, it_s, eta, free = num("loss"), num("it_s"), num("eta_s"), num("disk_free_bytes")
    if loss is not None:
        parts.append(f"loss {loss:.4f}")
    bad = status.get("nonfinite")
    if isinstance(bad, dict):
        parts.append(
            f"NaN/inf at step {bad.get('step')} (loss {bad.get('loss')}, grad_norm {bad.get('grad_norm')})"
        )
    if it_s is not None and live:
        parts.append(f"{it_s:.2f} it/s")
    if eta is not None and state in ("running", "saving", "compiling"):
        parts.append(f"ETA {eta / 60:.1f} min")
    if state == "saving" and status.get("saving_checkpoint"):
        parts.append(f"saving {str(status['saving_checkpoint']).rstrip('/').rsplit('/', 1)[-1]}")
    if status.get("last_checkpoint"):
        parts.append(f"last checkpoint {str(status['last_checkpoint']).rstrip('/').rsplit('/', 1)[-1]}")
    if free is not None:
        parts.append(f"disk free {binary_size(free)}")
    line = ", ".join(parts)
    failure = status.get("failure")
    if isinstance(failure, dict) and state.startswith("failed:"):
        line += f". {failure.get('message')} Advice: {failure.get('advice')}"
    drift = status.get("data_drift")
    if isinstance(drift, dict) and drift.get("note"):
        line += f". {drift['note']}"
    return line
