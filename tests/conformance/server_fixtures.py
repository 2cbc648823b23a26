"""The recorded exchanges of upstream's policy server (tests/fixtures/upstream/server/), for CI tests.

``exchanges.json`` lists, per server mode (``strict``, ``sim`` = ``--use-sim-policy-wrapper``,
``no_strict`` = ``--no-strict``, ``sim_no_strict`` = both), each request sent to the real server and
the reply it sent back, as raw msgpack files. ``compare`` says how a stand-in must match: ``bytes``
(identical reply) or ``structure`` (same keys, dtypes and shapes: the values are the fake model's).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "upstream" / "server"
MODES = {
    "strict": [],
    "sim": ["--use-sim-policy-wrapper"],
    "no_strict": ["--no-strict"],
    "sim_no_strict": ["--use-sim-policy-wrapper", "--no-strict"],
}


@dataclass(frozen=True)
class Exchange:
    server: str
    name: str
    endpoint: str | None
    compare: str
    what: str
    request: bytes
    reply: bytes

    @property
    def id(self) -> str:
        return f"{self.server}.{self.name}"


def index(root: Path = FIXTURES) -> dict[str, Any]:
    return json.loads((root / "exchanges.json").read_text())


def exchanges(root: Path = FIXTURES, *, server: str | None = None) -> list[Exchange]:
    found = []
    for entry in index(root)["exchanges"]:
        if server and entry["server"] != server:
            continue
        found.append(
            Exchange(
                server=entry["server"],
                name=entry["name"],
                endpoint=entry["endpoint"],
                compare=entry["compare"],
                what=entry["what"],
                request=(root / entry["request"]).read_bytes(),
                reply=(root / entry["reply"]).read_bytes(),
            )
        )
    return found


def exchange(server: str, name: str, root: Path = FIXTURES) -> Exchange:
    return next(e for e in exchanges(root, server=server) if e.name == name)


def signature(raw_or_value: Any) -> Any:
    """Keys, types, dtypes and shapes of a msgpack body (raw bytes) or decoded value, values dropped.

    Arrays show as ``"ndarray <dtype> <shape>"`` (read from the npy header), so two replies with the
    same structure but other numbers have equal signatures.
    """
    value = msgpack.unpackb(raw_or_value) if isinstance(raw_or_value, bytes) else raw_or_value
    return _signature(value)


def _signature(value: Any) -> Any:
    if isinstance(value, dict):
        if "__ndarray_class__" in value:
            return "ndarray " + _npy_header(value["as_npy"])
        return {k: _signature(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_signature(v) for v in value]
    return type(value).__name__


def _npy_header(npy: bytes) -> str:
    import io

    import numpy as np

    array = np.load(io.BytesIO(npy), allow_pickle=False)
    return f"{array.dtype} {tuple(array.shape)}"


def readable(raw: bytes) -> Any:
    """A JSON-able account of a msgpack body: arrays by dtype and shape, everything else as is."""
    try:
        value = msgpack.unpackb(raw)
    except Exception:  # the recorded garbage request
        return f"<{len(raw)} bytes, not msgpack>"
    return _readable(value)


def _readable(value: Any) -> Any:
    if isinstance(value, dict):
        if "__ndarray_class__" in value:
            return {"__ndarray_class__": True, "as_npy": _npy_header(value["as_npy"])}
        return {k: _readable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_readable(v) for v in value]
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value
