"""``groot-ops probe HOST PORT``: health-check a GR00T policy server."""

from __future__ import annotations

import argparse
from typing import Any

from groot_ops.cli.output import emit


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("probe", help="health-check a GR00T policy server (ping, config, action)")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument(
        "--embodiment", default="unitree_g1", help="the tag the server runs (e.g. new_embodiment)"
    )
    parser.add_argument(
        "--statistics",
        default=None,
        metavar="FILE",
        help="the served model's statistics.json: group widths, needed for any embodiment but unitree_g1",
    )
    parser.add_argument("--request-timeout", type=float, default=10.0, help="seconds per request")
    parser.add_argument(
        "--startup-timeout", type=float, default=60.0, help="seconds to wait for the first ping"
    )
    parser.add_argument(
        "--sim-policy-wrapper",
        action="store_true",
        help="the server runs with --use-sim-policy-wrapper: send flat video.*/state.* keys",
    )
    parser.add_argument(
        "--api-token-env",
        default=None,
        help="name of an environment variable holding the API token (never pass a token on the command line)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import os

    from groot_ops.probe import probe_server

    token = os.environ.get(args.api_token_env) if args.api_token_env else None
    statistics = _read_statistics(args.statistics) if args.statistics else None
    result = probe_server(
        args.host,
        args.port,
        embodiment=args.embodiment,
        request_timeout_s=args.request_timeout,
        startup_timeout_s=args.startup_timeout,
        api_token=token,
        sim_policy_wrapper=args.sim_policy_wrapper,
        statistics=statistics,
    )
    emit(result, args.json, lambda: _summary(result))
    return 0 if result["ok"] else 1


def _read_statistics(path: str) -> Any:
    import json
    from pathlib import Path

    from groot_ops.errors import InputError

    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read statistics file {path}: {exc}") from exc


def _summary(result: dict[str, Any]) -> str:
    lines = []
    for stage in result["stages"]:
        mark = "ok  " if stage["ok"] else "FAIL"
        outcome = stage.get("detail") or stage.get("error")
        lines.append(f"{mark} {stage['name']:<20} {stage['seconds']:7.3f}s  {outcome}")
        if not stage["ok"] and stage.get("reply"):
            lines.append(f"     server answered: {stage['reply']}")
    lines.append(
        f"healthy ({result['layout']} observation)" if result["ok"] else f"unhealthy: {result['error']}"
    )
    if result.get("hint"):
        lines.append(f"hint: {result['hint']}")
    return "\n".join(lines)
