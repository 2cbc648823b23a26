"""``groot-ops render RECIPE -i INVENTORY``: what each host would get, offline (no host is contacted)."""

from __future__ import annotations

import argparse
from pathlib import Path

from groot_ops.errors import ConfigError

EXAMPLES = """examples:
  groot-ops render hospitality-7ds -i inventory/production          # review before a run
  groot-ops render hospitality-7ds -i inventory/production --json   # the same, machine-readable
  groot-ops render lab-demo                                         # the lab (after groot-ops lab up)
exit status: 0 when every check passes, 1 otherwise (or on an error).
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "render",
        help="print what every host of an inventory would get (images, env, commands), offline",
        description=__doc__,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("recipe")
    parser.add_argument(
        "-i", "--inventory", default=None, help="inventory directory (default: inventory/lab)"
    )
    parser.add_argument("-e", "--extra-vars", action="append", default=[], metavar="KEY=VALUE|@FILE")
    parser.add_argument("--host", action="append", default=[], help="only these hosts (repeatable)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=_cmd_render)


def _cmd_render(args: argparse.Namespace) -> int:
    from groot_ops.checkout import repo_root
    from groot_ops.cli.output import emit
    from groot_ops.render import render
    from groot_ops.render.text import render_text
    from groot_ops.runner.invocation import parse_extravars

    repo = repo_root()
    inventory = Path(args.inventory) if args.inventory else repo / "inventory" / "lab"
    if not inventory.exists():
        raise ConfigError(f"inventory {inventory} does not exist")
    extra = parse_extravars(args.extra_vars)
    if any(key.startswith("vault_") for key in extra):
        raise ConfigError("render needs no secrets: drop the vault_* extra vars")
    result = render(repo, inventory.resolve(), args.recipe, extra_vars=extra)
    if args.host:
        unknown = sorted(set(args.host) - set(result["hosts"]))
        if unknown:
            raise ConfigError(f"unknown host(s) {', '.join(unknown)}; hosts: {', '.join(result['hosts'])}")
        result["hosts"] = {h: v for h, v in result["hosts"].items() if h in args.host}
    emit(result, args.json, lambda: render_text(result), indent=2)
    return 0 if result["ok"] else 1
