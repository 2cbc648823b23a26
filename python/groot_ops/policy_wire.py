"""The GR00T N1.6 policy server's wire format, as the product speaks it.

ZeroMQ REQ/REP with msgpack bodies (``gr00t/policy/server_client.py``): a request is
``{"endpoint": name[, "data": {...}][, "api_token": ...]}``; numpy arrays travel as
``{"__ndarray_class__": true, "as_npy": <np.save bytes>}`` and modality configs as
``{"__ModalityConfig_class__": true, "as_json": {...}}``; a failed request is answered
``{"error": "<text>"}``. The upstream client never applies its receive timeout, so every exchange here
uses a fresh REQ socket, waits with ``poll`` against a deadline and closes with LINGER 0: a dead or
silent server costs at most the deadline.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

NDARRAY_TAG = "__ndarray_class__"
MODALITY_CONFIG_TAG = "__ModalityConfig_class__"


class WireError(Exception):
    """An exchange failed; ``reply`` holds what the server answered, if anything."""

    def __init__(self, message: str, reply: Any = None) -> None:
        super().__init__(message)
        self.reply = reply


class NoReply(WireError):
    """No reply before the deadline."""


class ServerError(WireError):
    """The server answered ``{"error": ...}``."""


@dataclass(frozen=True)
class ModalityConfig:
    """Upstream's ``gr00t.data.types.ModalityConfig`` as its ``as_json`` carries it (no group widths)."""

    delta_indices: list[int]
    modality_keys: list[str]
    sin_cos_embedding_keys: list[str] | None = None
    mean_std_embedding_keys: list[str] | None = None
    action_configs: list[dict[str, Any]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> ModalityConfig:
        if not isinstance(data, dict):
            raise ValueError(f"ModalityConfig as_json must be a map, got {type(data).__name__}")
        known = {k: data[k] for k in ("delta_indices", "modality_keys") if k in data}
        if len(known) != 2:
            raise ValueError(f"ModalityConfig as_json lacks delta_indices/modality_keys: {sorted(data)}")
        optional = ("sin_cos_embedding_keys", "mean_std_embedding_keys", "action_configs")
        extra = {k: v for k, v in data.items() if k not in (*known, *optional)}
        return cls(**known, **{k: data.get(k) for k in optional}, extra=extra)


def encode(obj: Any) -> Any:
    """msgpack ``default``: numpy arrays as upstream's MsgSerializer encodes them."""
    import numpy as np

    if isinstance(obj, np.ndarray):
        buffer = io.BytesIO()
        np.save(buffer, obj, allow_pickle=False)
        return {NDARRAY_TAG: True, "as_npy": buffer.getvalue()}
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"cannot serialize {type(obj).__name__}")


def decode(obj: Any) -> Any:
    """msgpack ``object_hook``: upstream tests for the presence of the tag keys, not their value."""
    if not isinstance(obj, dict):
        return obj
    if MODALITY_CONFIG_TAG in obj:
        return ModalityConfig.from_json(obj.get("as_json"))
    if NDARRAY_TAG in obj:
        import numpy as np

        return np.load(io.BytesIO(obj["as_npy"]), allow_pickle=False)
    return obj


def pack(message: Any) -> bytes:
    import msgpack

    return msgpack.packb(message, default=encode, use_bin_type=True)


def unpack(data: bytes) -> Any:
    import msgpack

    return msgpack.unpackb(data, object_hook=decode, raw=False)


def message(
    endpoint: str, data: dict[str, Any] | None = None, api_token: str | None = None
) -> dict[str, Any]:
    """A request as upstream's ``PolicyClient.call_endpoint`` builds it: ``data`` only when given."""
    body: dict[str, Any] = {"endpoint": endpoint}
    if data is not None:
        body["data"] = data
    if api_token:
        body["api_token"] = api_token
    return body


def exchange(host: str, port: int, request: bytes, *, timeout_s: float) -> bytes:
    """Send raw request bytes on a fresh REQ socket; the raw reply, or NoReply after ``timeout_s``."""
    import zmq

    socket = zmq.Context.instance().socket(zmq.REQ)
    socket.setsockopt(zmq.LINGER, 0)
    try:
        socket.connect(f"tcp://{host}:{port}")
        socket.send(request)
        if not socket.poll(max(1, int(timeout_s * 1000)), zmq.POLLIN):
            raise NoReply(f"no reply from {host}:{port} within {timeout_s:.1f}s")
        return socket.recv()
    finally:
        socket.close(linger=0)


def call(
    host: str,
    port: int,
    endpoint: str,
    data: dict[str, Any] | None = None,
    *,
    timeout_s: float,
    api_token: str | None = None,
) -> Any:
    """One request, decoded; raises ServerError for an ``{"error": ...}`` answer like PolicyClient does."""
    raw = exchange(host, port, pack(message(endpoint, data, api_token)), timeout_s=timeout_s)
    try:
        reply = unpack(raw)
    except Exception as exc:  # any malformed body: msgpack, npy or ModalityConfig decoding
        raise WireError(f"unreadable reply ({len(raw)} bytes): {exc}", reply=raw[:80]) from exc
    if isinstance(reply, dict) and "error" in reply:
        raise ServerError(f"server answered error: {reply['error']}", reply=reply)
    return reply


def describe(value: Any, limit: int = 400) -> str:
    """A short, readable account of a decoded reply (arrays by dtype and shape) for failure reports."""
    text = _describe(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(value: Any) -> str:
    shape = getattr(value, "shape", None)
    if shape is not None and hasattr(value, "dtype"):
        return f"{value.dtype}{tuple(shape)}"
    if isinstance(value, ModalityConfig):
        return f"ModalityConfig(keys={value.modality_keys}, delta_indices={len(value.delta_indices)})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_describe(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_describe(v) for v in value) + "]"
    return repr(value)
