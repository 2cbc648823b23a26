"""``groot-ops data convert|merge|stats|validate|synth``: the data engine from a shell."""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable
from typing import Any

from groot_ops.cli.output import emit
from groot_ops.errors import GrootOpsError

EXAMPLES = """examples:
  groot-ops data synth /tmp/raw --version v3.0 --episodes 6 --min-len 1000 --max-len 2400
  groot-ops data convert --input /tmp/raw --output /tmp/groot/fold --ego-camera cam_left_high --json
  groot-ops data merge --output /tmp/groot/merged /tmp/groot/fold /tmp/groot/wipe
  groot-ops data stats /tmp/groot/merged
  groot-ops data validate /tmp/groot/merged --json
"""


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Any failure becomes one error line (or one JSON error document) naming the dataset, never a traceback.

    Expected failures are ``GrootOpsError`` already (they name file, column and episode); anything
    else is a bug or an environment problem (a codec missing, a full disk), reported with its type.
    """

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except GrootOpsError:
            raise
        except Exception as exc:
            target = next(
                (getattr(args, k) for k in ("input", "dataset", "output") if getattr(args, k, None)), ""
            )
            raise GrootOpsError(
                f"data {args.data_command} failed on {target}: {type(exc).__name__}: {exc}"
            ) from exc

    return run


def _changed(result: dict[str, Any], verb: str) -> str:
    if not result["changed"]:
        return f"unchanged: {result.get('output', '')}"
    return f"{'would ' + verb if result.get('check') else verb}: {result.get('output', '')}"


def _convert(args: argparse.Namespace) -> int:
    from groot_ops.data.convert import convert_dataset

    result = convert_dataset(args.input, args.output, ego_camera=args.ego_camera, check=args.check)
    result["check"] = args.check
    emit(
        result,
        args.json,
        f"{_changed(result, 'converted')} ({result['source_version']}, {result['episodes']} episodes, "
        f"{result['frames']} frames, {result['tasks']} tasks)",
    )
    return 0


def _merge(args: argparse.Namespace) -> int:
    from groot_ops.data.merge import merge_datasets

    result = merge_datasets(args.inputs, args.output, check=args.check)
    result["check"] = args.check
    emit(
        result,
        args.json,
        f"{_changed(result, 'merged')} ({len(args.inputs)} inputs, {result['episodes']} episodes, "
        f"{result['frames']} frames, {result['tasks']} tasks)",
    )
    return 0


def _stats(args: argparse.Namespace) -> int:
    from groot_ops.data.stats import compute_stats

    result = compute_stats(args.dataset, check=args.check, force=args.force)
    result["check"] = args.check
    result["output"] = args.dataset
    state = "fresh" if result["fresh_before"] else "stale or missing"
    emit(result, args.json, f"{_changed(result, 'computed stats')} (stats were {state})")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from groot_ops.data.validate import validate_dataset

    result = validate_dataset(args.dataset)
    lines = [
        f"{'OK' if result['ok'] else 'INVALID'}: {args.dataset} ({result['episodes']} episodes, "
        f"{result['frames']} frames, {len(result['problems'])} problems)"
    ]
    for problem in result["problems"]:
        where = ", ".join(
            f"{key} {problem[key]}" for key in ("path", "column", "episode") if problem.get(key) is not None
        )
        lines.append(f"  - {problem['message']}" + (f" ({where})" if where else ""))
    emit(result, args.json, "\n".join(lines))
    return 0 if result["ok"] else 1


def _synth(args: argparse.Namespace) -> int:
    from groot_ops.data.synth import synth_raw_dataset

    result = synth_raw_dataset(
        args.output,
        version=args.version,
        episodes=args.episodes,
        min_len=args.min_len,
        max_len=args.max_len,
        tasks=tuple(args.task or ["Fold the towel."]),
        seed=args.seed,
        fps=args.fps,
        width=args.width,
        height=args.height,
        codec=args.codec,
        renamed=args.renamed,
        episodes_per_file=args.episodes_per_file,
        video_episodes_per_file=args.video_episodes_per_file,
        check=args.check,
    )
    result["check"] = args.check
    emit(
        result,
        args.json,
        f"{_changed(result, 'wrote')} ({result['version']}, {result['episodes']} episodes, "
        f"{result['frames']} frames)",
    )
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "data",
        help="convert, merge, stats, validate and synthesize datasets",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--json", action="store_true", help="one JSON object on stdout")
        return p

    p = add("convert", "raw Unitree G1 (LeRobot v2.1/v3.0) -> GR00T UNITREE_G1 layout")
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--ego-camera", default="cam_left_high")
    p.add_argument("--check", action="store_true", help="report what would change, write nothing")
    p.set_defaults(handler=_guarded(_convert))

    p = add("merge", "one GR00T dataset from several (task_index rewritten)")
    p.add_argument("--output", required=True)
    p.add_argument("inputs", nargs="+")
    p.add_argument("--check", action="store_true")
    p.set_defaults(handler=_guarded(_merge))

    p = add("stats", "meta/stats.json and meta/relative_stats.json, recomputed when stale")
    p.add_argument("dataset")
    p.add_argument("--force", action="store_true", help="recompute even when fresh")
    p.add_argument("--check", action="store_true")
    p.set_defaults(handler=_guarded(_stats))

    p = add("validate", "every problem the GR00T loader would hit; exit 1 when any")
    p.add_argument("dataset")
    p.set_defaults(handler=_guarded(_validate))

    p = add("synth", "write a synthetic raw Unitree G1 dataset")
    p.add_argument("output")
    p.add_argument("--version", choices=("v2.1", "v3.0"), default="v2.1")
    p.add_argument("--episodes", type=int, default=4)
    p.add_argument("--min-len", type=int, default=40)
    p.add_argument("--max-len", type=int, default=80)
    p.add_argument("--task", action="append", help="task text (repeat for several tasks)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fps", type=int, default=30)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--height", type=int, default=48)
    p.add_argument(
        "--codec",
        choices=("av1", "h264"),
        default="h264",
        help="h264 (default; every GR00T video backend decodes it) or av1 like the Hub data",
    )
    p.add_argument("--renamed", action="store_true", help="newer v3.0 column and camera names")
    p.add_argument("--episodes-per-file", type=int, help="v3.0: episodes per concatenated data file")
    p.add_argument("--video-episodes-per-file", type=int, help="v3.0: episodes per concatenated video file")
    p.add_argument("--check", action="store_true")
    p.set_defaults(handler=_guarded(_synth))
