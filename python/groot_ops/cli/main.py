"""Entry point of the ``groot-ops`` console script.

Sub-command groups register themselves from small modules (``groot_ops.cli.<group>``), each
exposing ``register(subparsers)``. A group whose optional dependencies are missing is still
listed, and says what to install when invoked, so the CLI works on every side.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence

from groot_ops import __version__
from groot_ops.errors import GrootOpsError

# Module names under groot_ops.cli; order is the order shown in --help.
COMMAND_GROUPS: tuple[str, ...] = (
    "data_cmd",
    "bench_cmd",
    "train_cmd",
    "disk_cmd",
    "hub_cmd",
    "probe_cmd",
    "runner_cmd",
    "render_cmd",
    "lab_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="groot-ops",
        description="GR00T N1.6 fine-tuning for the Unitree G1, reproducible end to end.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"groot-ops {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_GROUPS:
        try:
            module = importlib.import_module(f"groot_ops.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"groot_ops.cli.{name}":
                continue  # group not shipped in this build
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except GrootOpsError as exc:
        if getattr(args, "json", False):
            print(json.dumps({"ok": False, "error": str(exc)}))
        else:
            print(f"groot-ops: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
