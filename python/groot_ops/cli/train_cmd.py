"""``groot-ops train start|status|stop``: the supervisor from a shell inside the training container."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from groot_ops.cli.output import emit
from groot_ops.errors import ConfigError
from groot_ops.train.summary import progress_line

EXAMPLES = """examples:
  groot-ops train start --spec /workspace/runs/spec-fold-towel.json --check
  groot-ops train status --runs-root /workspace/runs --recipe fold-towel --json
  groot-ops train stop --runs-root /workspace/runs --recipe fold-towel
"""


def _load_spec(path: str) -> dict[str, Any]:
    import yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read training spec {path}: {exc}") from exc
    try:
        data = yaml.safe_load(text)  # JSON is YAML too
    except yaml.YAMLError as exc:
        raise ConfigError(f"training spec {path} is not valid JSON/YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"training spec {path} must be a mapping")
    return data


def _start(args: argparse.Namespace) -> int:
    from groot_ops.train import control

    result = control.start(_load_spec(args.spec), check=args.check)
    line = f"{result['recipe']}: {result['action']}"
    if result.get("msg"):
        line += f" ({result['msg']})"
    emit(result, args.json, line, indent=2)
    return 1 if result["action"] == "refused" else 0


def _status(args: argparse.Namespace) -> int:
    from groot_ops.train import control

    result = control.status(args.runs_root, args.recipe)
    emit(result, args.json, progress_line(result), indent=2)
    return 1 if str(result.get("state", "")).startswith("failed:") else 0


def _stop(args: argparse.Namespace) -> int:
    from groot_ops.train import control

    result = control.stop(args.runs_root, args.recipe, check=args.check)
    emit(result, args.json, f"{args.recipe}: {result['action']}", indent=2)
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "train",
        help="launch, observe and stop supervised fine-tuning runs (inside the training container)",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="train_command", metavar="ACTION", required=True)
    start = sub.add_parser("start", help="launch or resume a recipe's run detached (no-op when done)")
    start.add_argument("--spec", required=True, help="training spec (JSON or YAML; see groot_ops.train.spec)")
    start.add_argument("--check", action="store_true", help="say what would happen, change nothing")
    start.set_defaults(handler=_start)
    for name, handler, text in (
        ("status", _status, "progress of a recipe's run (state, step, loss, it/s, ETA)"),
        ("stop", _stop, "stop a recipe's run cleanly"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--runs-root", required=True, help="runs directory ({{ groot_workspace }}/runs)")
        cmd.add_argument("--recipe", required=True)
        if name == "stop":
            cmd.add_argument("--check", action="store_true")
        cmd.set_defaults(handler=handler)
    for cmd in [start, *sub.choices.values()]:
        if not any(a.dest == "json" for a in cmd._actions):
            cmd.add_argument("--json", action="store_true", help="machine-readable output")


if __name__ == "__main__":  # pragma: no cover
    from groot_ops.cli.main import main

    sys.exit(main(["train", *sys.argv[1:]]))
