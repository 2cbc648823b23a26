"""Drive a policy server with upstream's real ``PolicyClient``; print what each call gave, as JSON.

    policy_client_session.py HOST PORT nested|flat

Calls ping, get_modality_config, get_action (an all-zero observation in the given layout), get_action
with a float64 state (which a strict server refuses), reset and kill, and prints for each the decoded
result's types, keys, dtypes and shapes (or the client's exception), so two servers can be compared.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import fake_gr00t_model
import numpy as np

STATE = {
    "left_leg": 6,
    "right_leg": 6,
    "waist": 3,
    "left_arm": 7,
    "right_arm": 7,
    "left_hand": 1,
    "right_hand": 1,
}
LANGUAGE = "annotation.human.task_description"


def observation(layout: str, state_dtype: Any = np.float32) -> dict[str, Any]:
    video = np.zeros((1, 1, 48, 64, 3), np.uint8)
    state = {k: np.zeros((1, 1, w), state_dtype) for k, w in STATE.items()}
    if layout == "flat":
        return {
            "video.ego_view": video,
            **{f"state.{k}": v for k, v in state.items()},
            LANGUAGE: ["fold the towel"],
        }
    return {"video": {"ego_view": video}, "state": state, "language": {LANGUAGE: [["fold the towel"]]}}


def shape_of(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return f"ndarray {value.dtype} {tuple(value.shape)}"
    if isinstance(value, dict):
        return {k: shape_of(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [shape_of(v) for v in value]
    return type(value).__name__


def config_of(config: Any) -> Any:
    from gr00t.data.types import ModalityConfig

    if not isinstance(config, ModalityConfig):
        return f"not a ModalityConfig: {type(config).__name__}"
    reps = [c.rep.name for c in config.action_configs] if config.action_configs else None
    return {"modality_keys": config.modality_keys, "delta_indices": config.delta_indices, "reps": reps}


def attempt(call: Any) -> Any:
    try:
        return {"ok": call()}
    except Exception as exc:  # the client's own exception is what we compare
        return {"raised": type(exc).__name__, "message": str(exc)}


def main(host: str, port: str, layout: str) -> None:
    from gr00t.policy.server_client import PolicyClient

    client = PolicyClient(host=host, port=int(port))
    session = {
        "ping": attempt(client.ping),
        "get_modality_config": attempt(
            lambda: {k: config_of(v) for k, v in client.get_modality_config().items()}
        ),
        "get_action": attempt(lambda: shape_of(client.get_action(observation(layout)))),
        "get_action_float64": attempt(lambda: shape_of(client.get_action(observation(layout, np.float64)))),
        "reset": attempt(client.reset),
        "kill": attempt(client.kill_server),
    }
    print(json.dumps(session))


if __name__ == "__main__":
    fake_gr00t_model.add_stubs()
    main(*sys.argv[1:4])
