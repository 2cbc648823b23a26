"""msgpack with numpy arrays as ``{"__ndarray_class__": true, "as_npy": <np.save bytes>}``, like upstream."""

from __future__ import annotations

import io

import msgpack
import numpy as np


def _encode(obj):
    if isinstance(obj, np.ndarray):
        buffer = io.BytesIO()
        np.save(buffer, obj, allow_pickle=False)
        return {"__ndarray_class__": True, "as_npy": buffer.getvalue()}
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _decode(obj):
    if isinstance(obj, dict) and obj.get("__ndarray_class__"):
        return np.load(io.BytesIO(obj["as_npy"]), allow_pickle=False)
    return obj


def dumps(obj) -> bytes:
    return msgpack.packb(obj, default=_encode, use_bin_type=True)


def loads(data: bytes):
    return msgpack.unpackb(data, object_hook=_decode, raw=False)
