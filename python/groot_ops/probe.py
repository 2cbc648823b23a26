"""Health probe of a GR00T N1.6 policy server (ZeroMQ REQ/REP, msgpack).

The upstream client never applies its receive timeout, so a server that accepted the connection but hangs
would block a probe forever. Every request here uses a fresh REQ socket, waits with ``poll`` against a
deadline and closes with LINGER 0, so a dead or silent server costs at most the deadline.
"""

from __future__ import annotations

import io
import time
from typing import Any

from groot_ops.errors import InputError

ACTION_HORIZON = 30
# The n1.6.1 UNITREE_G1 embodiment: keys in model order and the width of every group (contract §1, §3).
EMBODIMENTS: dict[str, dict[str, Any]] = {
    "unitree_g1": {
        "video": ("ego_view",),
        "state": {
            "left_leg": 6,
            "right_leg": 6,
            "waist": 3,
            "left_arm": 7,
            "right_arm": 7,
            "left_hand": 1,
            "right_hand": 1,
        },
        "action": {
            "left_arm": 7,
            "right_arm": 7,
            "left_hand": 1,
            "right_hand": 1,
            "waist": 3,
            "base_height_command": 1,
            "navigate_command": 3,
        },
        "language": "annotation.human.task_description",
    }
}
PROBE_IMAGE_SIZE = (64, 64)


class ProbeFailure(Exception):
    """A stage did not pass; the message says what was wrong."""


class ProbeTimeout(ProbeFailure):
    """No reply before the deadline."""


def embodiment_spec(embodiment: str) -> dict[str, Any]:
    key = embodiment.lower()
    if key not in EMBODIMENTS:
        raise InputError(f"unknown embodiment {embodiment!r}; known: {sorted(EMBODIMENTS)}")
    return EMBODIMENTS[key]


def _encode(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.ndarray):
        buffer = io.BytesIO()
        np.save(buffer, obj, allow_pickle=False)
        return {"__ndarray_class__": True, "as_npy": buffer.getvalue()}
    return obj


def _decode(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, dict) and obj.get("__ndarray_class__"):
        return np.load(io.BytesIO(obj["as_npy"]), allow_pickle=False)
    return obj


def request(
    host: str,
    port: int,
    endpoint: str,
    data: dict[str, Any] | None = None,
    *,
    timeout_s: float,
    api_token: str | None = None,
) -> Any:
    """One request on a fresh REQ socket; raises ProbeTimeout when no reply arrives within ``timeout_s``."""
    import msgpack
    import zmq

    message: dict[str, Any] = {"endpoint": endpoint, "data": data or {}}
    if api_token:
        message["api_token"] = api_token
    context = zmq.Context.instance()
    socket = context.socket(zmq.REQ)
    socket.setsockopt(zmq.LINGER, 0)
    try:
        socket.connect(f"tcp://{host}:{port}")
        socket.send(msgpack.packb(message, default=_encode, use_bin_type=True))
        if not socket.poll(max(1, int(timeout_s * 1000)), zmq.POLLIN):
            raise ProbeTimeout(f"{endpoint}: no reply from {host}:{port} within {timeout_s:.1f}s")
        reply = msgpack.unpackb(socket.recv(), object_hook=_decode, raw=False)
    finally:
        socket.close(linger=0)
    if isinstance(reply, dict) and "error" in reply and len(reply) == 1:
        raise ProbeFailure(f"{endpoint}: server answered error: {reply['error']}")
    return reply


def canned_observation(spec: dict[str, Any]) -> dict[str, Any]:
    """All-zero observation of batch 1 with the shapes the embodiment expects."""
    import numpy as np

    height, width = PROBE_IMAGE_SIZE
    observation: dict[str, Any] = {
        f"video.{key}": np.zeros((1, 1, height, width, 3), dtype=np.uint8) for key in spec["video"]
    }
    for key, dim in spec["state"].items():
        observation[f"state.{key}"] = np.zeros((1, 1, dim), dtype=np.float32)
    observation[f"language.{spec['language']}"] = [["groot-ops health probe"]]
    return observation


def check_modality_config(reply: Any, spec: dict[str, Any]) -> str:
    if not isinstance(reply, dict):
        raise ProbeFailure(f"get_modality_config: expected a map, got {type(reply).__name__}")
    for group in ("state", "action"):
        section = reply.get(group)
        keys = section.get("modality_keys") if isinstance(section, dict) else None
        expected = list(spec[group])
        if keys != expected:
            raise ProbeFailure(f"get_modality_config: {group} keys {keys} != expected {expected}")
        dims = section.get("dims") if isinstance(section, dict) else None
        if isinstance(dims, dict):
            wrong = {k: dims.get(k) for k, width in spec[group].items() if dims.get(k) != width}
            if wrong:
                raise ProbeFailure(f"get_modality_config: {group} widths {wrong} differ from {spec[group]}")
    return f"{len(spec['state'])} state / {len(spec['action'])} action groups"


def check_action(reply: Any, spec: dict[str, Any]) -> str:
    import numpy as np

    actions = reply[0] if isinstance(reply, list | tuple) and reply else reply
    if not isinstance(actions, dict):
        raise ProbeFailure(f"get_action: expected [actions, info], got {type(reply).__name__}")
    for key, width in spec["action"].items():
        value = actions.get(key, actions.get(f"action.{key}"))
        if value is None:
            raise ProbeFailure(f"get_action: reply has no action group '{key}'")
        shape = getattr(value, "shape", None)
        if shape != (1, ACTION_HORIZON, width):
            raise ProbeFailure(
                f"get_action: '{key}' has shape {shape}, expected (1, {ACTION_HORIZON}, {width})"
            )
        if not np.all(np.isfinite(value)):
            raise ProbeFailure(f"get_action: '{key}' contains non-finite values")
    return f"{len(spec['action'])} groups of {ACTION_HORIZON} steps"


def probe_server(
    host: str,
    port: int,
    *,
    embodiment: str = "unitree_g1",
    request_timeout_s: float = 10.0,
    startup_timeout_s: float = 600.0,
    api_token: str | None = None,
    retry_interval_s: float = 1.0,
) -> dict[str, Any]:
    """ping (retried until ``startup_timeout_s``), then get_modality_config and a canned get_action.

    Returns ``{ok, changed: False, stages: [{name, ok, seconds, detail|error}], attempts, error}``.
    """
    spec = embodiment_spec(embodiment)
    started = time.monotonic()
    deadline = started + startup_timeout_s
    stages: list[dict[str, Any]] = []
    attempts = 0
    last_error = ""
    ping_started = time.monotonic()
    while True:
        attempts += 1
        remaining = deadline - time.monotonic()
        try:
            reply = request(
                host, port, "ping", timeout_s=max(0.1, min(request_timeout_s, remaining)), api_token=api_token
            )
            if not (isinstance(reply, dict) and reply.get("status") == "ok"):
                raise ProbeFailure(f"ping: unexpected reply {reply!r}")
            stages.append(
                {
                    "name": "ping",
                    "ok": True,
                    "seconds": round(time.monotonic() - ping_started, 3),
                    "detail": "ok",
                }
            )
            break
        except ProbeFailure as exc:
            last_error = str(exc)
        if time.monotonic() + retry_interval_s >= deadline:
            stages.append(
                {
                    "name": "ping",
                    "ok": False,
                    "seconds": round(time.monotonic() - ping_started, 3),
                    "error": f"{last_error} (gave up after {attempts} attempts, {startup_timeout_s:.0f}s)",
                }
            )
            return _result(host, port, stages, attempts, started)
        time.sleep(retry_interval_s)

    checks = (
        ("get_modality_config", None, check_modality_config),
        ("get_action", {"observation": canned_observation(spec), "options": None}, check_action),
    )
    for name, data, check in checks:
        stage_started = time.monotonic()
        try:
            reply = request(host, port, name, data, timeout_s=request_timeout_s, api_token=api_token)
            detail = check(reply, spec)
            stages.append(
                {
                    "name": name,
                    "ok": True,
                    "seconds": round(time.monotonic() - stage_started, 3),
                    "detail": detail,
                }
            )
        except ProbeFailure as exc:
            stages.append(
                {
                    "name": name,
                    "ok": False,
                    "seconds": round(time.monotonic() - stage_started, 3),
                    "error": str(exc),
                }
            )
            break
    return _result(host, port, stages, attempts, started)


def _result(
    host: str, port: int, stages: list[dict[str, Any]], attempts: int, started: float
) -> dict[str, Any]:
    failed = next((s for s in stages if not s["ok"]), None)
    return {
        "ok": failed is None,
        "changed": False,
        "endpoint": f"tcp://{host}:{port}",
        "stages": stages,
        "attempts": attempts,
        "seconds": round(time.monotonic() - started, 3),
        "error": f"{failed['name']} failed at tcp://{host}:{port}: {failed['error']}" if failed else None,
    }
