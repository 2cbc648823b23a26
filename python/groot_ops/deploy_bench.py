"""Benchmark of the inference host's model verification: what a second deploy run costs.

    python -m groot_ops.deploy_bench [--gb 2] [--shards 4] [--workdir DIR] [--json]

Writes a model-shaped directory (``--shards`` weight shards totalling ``--gb`` GiB plus the small JSON
files of an export), then times, through ``groot_ops.deploy_fetch`` against its manifest:

- ``first``: verification without a manifest, hashing every byte (what the first run after a fetch or a
  lost manifest costs, and what ``verify=full`` costs on every run);
- ``second``: a run with the manifest (``verify=stat``: one ``lstat`` per file, nothing read).

A 9.2 GB production export costs ``first`` x 9.2 / ``--gb`` (hashing is linear in bytes) and the same
``second`` (it is per file, and the file count does not grow with the size).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from groot_ops.deploy_fetch import META_DIR, RemoteFile, _classify, file_digest, stat_key

SMALL_FILES = ("config.json", "model.safetensors.index.json", "processor_config.json", "statistics.json",
               "embodiment_id.json", "experiment_cfg/conf.yaml")  # fmt: skip


def _write_model(folder: Path, total_bytes: int, shards: int) -> list[RemoteFile]:
    folder.mkdir(parents=True, exist_ok=True)
    files: list[RemoteFile] = []
    block = os.urandom(8 << 20)
    per_shard = total_bytes // shards
    for i in range(1, shards + 1):
        name = f"model-{i:05d}-of-{shards:05d}.safetensors"
        with (folder / name).open("wb") as out:
            left = per_shard
            while left > 0:
                out.write(block[: min(left, len(block))])
                left -= len(block)
        files.append(RemoteFile(name, per_shard, "sha256", file_digest(folder / name, "sha256", per_shard)))
    for name in SMALL_FILES:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"name": name, "pad": "x" * 2000}))
        size = path.stat().st_size
        files.append(RemoteFile(name, size, "git-sha1", file_digest(path, "git-sha1", size)))
    return files


def run(gb: float, shards: int, workdir: Path) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="groot-ops-deploy-bench-", dir=workdir))
    try:
        folder = root / ("c" * 40)
        files = _write_model(folder, int(gb * (1 << 30)), shards)
        total = sum(f.size for f in files)
        os.sync()
        started = time.perf_counter()
        status, hashed = _classify(folder, files, {}, full=True)
        first = time.perf_counter() - started
        assert set(status.values()) == {"ok"} and hashed == total
        known = {f.path: stat_key((folder / f.path).stat()) for f in files}
        (root / META_DIR).mkdir()
        started = time.perf_counter()
        status, hashed = _classify(folder, files, known, full=False)
        second = time.perf_counter() - started
        assert set(status.values()) == {"ok"} and hashed == 0
        return {
            "bytes": total,
            "files": len(files),
            "first_s": round(first, 3),
            "hash_gib_per_s": round(total / (1 << 30) / first, 3),
            "second_s": round(second, 6),
            "first_9_2gb_s": round(first * 9.2e9 / total, 1),
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m groot_ops.deploy_bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--gb", type=float, default=2.0, help="GiB of weights to write (default 2)")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.gb, args.shards, args.workdir)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{result['files']} files, {result['bytes'] / (1 << 30):.2f} GiB: first verification "
            f"(hash every byte) {result['first_s']:.2f} s ({result['hash_gib_per_s']:.2f} GiB/s, "
            f"~{result['first_9_2gb_s']:.0f} s for 9.2 GB); second run (stat only) "
            f"{result['second_s'] * 1000:.2f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
