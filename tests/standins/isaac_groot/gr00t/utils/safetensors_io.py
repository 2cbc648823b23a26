"""The safetensors file format, read and written with numpy only (8-byte header length, JSON header,
raw little-endian tensors), so that the server does not need torch."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32, "U8": np.uint8}
_NAMES = {np.dtype(v).str: k for k, v in _DTYPES.items()}


def save_file(tensors: dict[str, np.ndarray], path: str | os.PathLike[str]) -> int:
    """Write ``tensors`` to ``path``; returns the file size."""
    header: dict[str, dict] = {"__metadata__": {"format": "pt"}}
    offset = 0
    blobs = []
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name]).astype(np.dtype(tensors[name].dtype).newbyteorder("<"))
        raw = array.tobytes()
        header[name] = {
            "dtype": _NAMES[np.dtype(array.dtype).str],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        offset += len(raw)
        blobs.append(raw)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)  # the format aligns the data section to 8 bytes
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(encoded)))
        handle.write(encoded)
        for raw in blobs:
            handle.write(raw)
    return Path(path).stat().st_size


def load_file(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    data = Path(path).read_bytes()
    if len(data) < 8:
        raise ValueError(f"{path}: not a safetensors file (truncated header)")
    (size,) = struct.unpack("<Q", data[:8])
    try:
        header = json.loads(data[8 : 8 + size])
    except ValueError as exc:
        raise ValueError(f"{path}: not a safetensors file ({exc})") from exc
    base = 8 + size
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        if base + end > len(data):
            raise ValueError(f"{path}: tensor {name} is truncated")
        dtype = np.dtype(_DTYPES[meta["dtype"]]).newbyteorder("<")
        tensors[name] = np.frombuffer(data[base + start : base + end], dtype=dtype).reshape(meta["shape"])
    return tensors


def save_sharded(tensors: dict[str, np.ndarray], directory: Path) -> list[Path]:
    """One shard plus ``model.safetensors.index.json``, named the way transformers names them."""
    shard = "model-00001-of-00001.safetensors"
    total = save_file(tensors, directory / shard)
    index = {"metadata": {"total_size": total}, "weight_map": {name: shard for name in sorted(tensors)}}
    (directory / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")
    return [directory / shard, directory / "model.safetensors.index.json"]


def index_shards(directory: Path) -> list[str]:
    index = json.loads((directory / "model.safetensors.index.json").read_text())
    return sorted(set(index["weight_map"].values()))


def load_sharded(directory: Path) -> dict[str, np.ndarray]:
    tensors: dict[str, np.ndarray] = {}
    for shard in index_shards(directory):
        tensors.update(load_file(directory / shard))
    return tensors
