"""``groot-ops bench data``: the data-engine benchmark whose numbers the README quotes.

One run generates a Fold_Towel-sized raw dataset (200 episodes, ~310k frames; videos only for the
ego camera, one encoded file per distinct episode length, hardlinked, since the converter only
links videos), then measures:
- convert vs the floor "read every raw parquet file with pyarrow and write it back out" (same
  thread pool, best of ``repeat`` for both);
- stats time and peak RSS of a fresh process (the whole process, interpreter and imports included);
- merge of 7 such datasets, and the video bytes it added (must be 0: hardlinks).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

# Fold_Towel: 310,671 frames in 200 episodes; 11 distinct lengths around its mean of 1553.
_LENGTHS = tuple(1503 + 10 * k for k in range(11))


def bench_lengths(episodes: int, scale: float = 1.0) -> list[int]:
    return [max(31, round(_LENGTHS[i % len(_LENGTHS)] * scale)) for i in range(episodes)]


def _timed(fn: Any) -> tuple[float, float]:
    """(wall, CPU) seconds; CPU (all threads) is the number to trust on a shared, loaded machine."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _floor(raw: Path, out: Path, workers: int) -> None:
    files = sorted(raw.rglob("data/**/*.parquet"))

    def one(path: Path) -> None:
        target = out / path.relative_to(raw)
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pq.read_table(path), target)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, files))


# VmHWM, not ru_maxrss: Linux carries the parent's peak RSS into ru_maxrss across fork+exec.
_STATS_CHILD = """
import json, sys, time
from groot_ops.data.stats import compute_stats

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

base = hwm()
start, cpu = time.perf_counter(), time.process_time()
compute_stats(sys.argv[1], force=True)
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({"seconds": seconds, "cpu_s": cpu, "peak_rss_mb": hwm(), "rss_after_imports_mb": base}))
"""


def _stats_in_child(dataset: Path) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-c", _STATS_CHILD, str(dataset)], check=True, capture_output=True, text=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _video_inodes(root: Path) -> dict[tuple[int, int], int]:
    out = {}
    for path in root.rglob("*.mp4"):
        st = path.stat()
        out[(st.st_dev, st.st_ino)] = st.st_size
    return out


def run_bench(
    *,
    episodes: int = 200,
    merge_inputs: int = 7,
    repeat: int = 3,
    workdir: str | None = None,
    keep: bool = False,
    progress: Any = None,
) -> dict[str, Any]:
    from groot_ops.data.convert import convert_dataset, workers
    from groot_ops.data.merge import merge_datasets
    from groot_ops.data.synth import synth_raw_dataset

    def say(message: str) -> None:
        if progress:
            progress(message)

    root = Path(workdir or tempfile.mkdtemp(prefix="groot-ops-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    # The machine may be shared: the load average says how far the wall times can be trusted.
    results: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "workers": workers(),
        "episodes": episodes,
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        raw = root / "raw"
        say(f"synthesizing {episodes} episodes")
        start = time.perf_counter()
        synth = synth_raw_dataset(
            raw,
            episodes=episodes,
            lengths=bench_lengths(episodes),
            cameras=("cam_left_high",),
            codec="h264",
            reuse_videos=True,
            tasks=("Fold the towel.",),
        )
        results["frames"] = synth["frames"]
        results["synth_s"] = round(time.perf_counter() - start, 2)
        results["raw_parquet_mb"] = round(sum(p.stat().st_size for p in raw.rglob("*.parquet")) / 2**20, 1)

        floors, converts = [], []
        for attempt in range(repeat):
            say(f"floor and convert, round {attempt + 1}/{repeat}")
            shutil.rmtree(root / "floor", ignore_errors=True)
            floors.append(_timed(lambda: _floor(raw, root / "floor", workers())))
            shutil.rmtree(root / "groot", ignore_errors=True)
            converts.append(_timed(lambda: convert_dataset(raw, root / "groot")))
        noop = _timed(lambda: convert_dataset(raw, root / "groot"))
        assert not convert_dataset(raw, root / "groot", check=True)["changed"]
        results["convert_noop_s"] = round(noop[0], 3)
        for name, runs in (("floor", floors), ("convert", converts)):
            results[f"{name}_s"] = round(min(w for w, _ in runs), 3)
            results[f"{name}_cpu_s"] = round(min(c for _, c in runs), 3)
            results[f"{name}_runs"] = [{"wall_s": round(w, 3), "cpu_s": round(c, 3)} for w, c in runs]
        results["convert_vs_floor"] = round(results["convert_s"] / results["floor_s"], 3)
        results["convert_vs_floor_cpu"] = round(results["convert_cpu_s"] / results["floor_cpu_s"], 3)

        say("stats (fresh process)")
        results["stats"] = _stats_in_child(root / "groot")

        say(f"merging {merge_inputs} datasets")
        inputs = []
        for number in range(merge_inputs):
            copy = root / f"groot-{number}"
            shutil.copytree(root / "groot", copy, copy_function=os.link)
            inputs.append(str(copy))
        before = {}
        for item in inputs:
            before.update(_video_inodes(Path(item)))
        holder: dict[str, Any] = {}
        wall, cpu = _timed(lambda: holder.update(merge_datasets(inputs, root / "merged")))
        merged = holder
        results["merge_s"], results["merge_cpu_s"] = round(wall, 3), round(cpu, 3)
        results["merge_frames"] = merged["frames"]
        added = {k: v for k, v in _video_inodes(root / "merged").items() if k not in before}
        results["merge_video_bytes_added"] = sum(added.values())
        say("stats of the merged dataset (fresh process)")
        results["merged_stats"] = _stats_in_child(root / "merged")
        results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    return results
