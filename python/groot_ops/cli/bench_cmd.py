"""``groot-ops bench data|lab``: the data-engine and the ops-loop benchmarks (numbers quoted in README.md)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from groot_ops.cli.output import emit


def _data(args: argparse.Namespace) -> int:
    from groot_ops.data.bench import run_bench

    result = run_bench(
        episodes=args.episodes,
        merge_inputs=args.merge_inputs,
        repeat=args.repeat,
        workdir=args.workdir,
        keep=args.keep,
        progress=lambda message: print(f"bench: {message}", file=sys.stderr),
    )
    emit(result, args.json, lambda: _summary(result, args.merge_inputs))
    return 0


def _summary(result: dict[str, Any], merge_inputs: int) -> str:
    stats, merged = result["stats"], result["merged_stats"]
    return (
        f"dataset: {result['episodes']} episodes, {result['frames']} frames, "
        f"{result['raw_parquet_mb']} MB raw parquet; {result['cpus']} CPUs, {result['workers']} workers\n"
        f"convert: {result['convert_s']} s wall / {result['convert_cpu_s']} s CPU vs read+rewrite floor "
        f"{result['floor_s']} s / {result['floor_cpu_s']} s = {result['convert_vs_floor']}x wall, "
        f"{result['convert_vs_floor_cpu']}x CPU (no-op re-run {result['convert_noop_s']} s)\n"
        f"stats:   {stats['seconds']:.2f} s wall / {stats['cpu_s']:.2f} s CPU, peak RSS "
        f"{stats['peak_rss_mb']:.0f} MB ({stats['rss_after_imports_mb']:.0f} MB after imports)\n"
        f"merge:   {merge_inputs} datasets ({result['merge_frames']} frames) in "
        f"{result['merge_s']} s wall / {result['merge_cpu_s']} s CPU, "
        f"video bytes added {result['merge_video_bytes_added']}\n"
        f"stats of the merge: {merged['seconds']:.2f} s wall / {merged['cpu_s']:.2f} s CPU, "
        f"peak RSS {merged['peak_rss_mb']:.0f} MB\n"
        f"load average before / after: {result['load_average_before']} / {result['load_average_after']}"
    )


def _lab(args: argparse.Namespace) -> int:
    from groot_ops.checkout import repo_root
    from groot_ops.lab.bench import run_bench, summary_text
    from groot_ops.runner.invocation import parse_extravars

    result = run_bench(
        repo_root(),
        recipe=args.recipe,
        keep=args.keep,
        verbose=args.verbose,
        extravars=parse_extravars(args.extra_vars),
        say=lambda message: print(f"bench: {message}", file=sys.stderr, flush=True),
    )
    emit(result, args.json, lambda: summary_text(result), indent=2)
    return 0 if all(result["met"].values()) or not args.strict else 3


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("bench", help="benchmarks (numbers quoted in README.md)")
    sub = parser.add_subparsers(dest="bench_command", metavar="WHAT", required=True)
    p = sub.add_parser("data", help="convert/stats/merge on a Fold_Towel-sized synthetic dataset")
    p.add_argument("--episodes", type=int, default=200, help="episodes of ~1553 frames (default 200)")
    p.add_argument("--merge-inputs", type=int, default=7)
    p.add_argument("--repeat", type=int, default=3, help="rounds of floor/convert; the best is reported")
    p.add_argument("--workdir", help="where to generate (default: a temporary directory)")
    p.add_argument("--keep", action="store_true", help="keep the generated datasets")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_data)
    lab = sub.add_parser(
        "lab",
        help="first site.yml, a second (changed=0) and a plan on a fresh lab; ratios against the targets",
        description="Takes this checkout's lab down, brings it up fresh, and measures the ops loop through "
        "the operator CLI's runner. Uses the lab's global names and ports: run it under the shared lock.",
    )
    lab.add_argument("--recipe", default="lab-demo")
    lab.add_argument("--keep", action="store_true", help="leave the lab up afterwards")
    lab.add_argument("--verbose", action="store_true", help="show each run's live output")
    lab.add_argument("--strict", action="store_true", help="exit 3 when a target is not met")
    lab.add_argument(
        "-e", "--extra-vars", action="append", default=[], metavar="KEY=VALUE", help="for every measured run"
    )
    lab.add_argument("--json", action="store_true")
    lab.set_defaults(handler=_lab)
