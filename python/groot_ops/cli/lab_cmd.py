"""``groot-ops lab up|down|run|status``: the whole pipeline on this machine's Docker engine."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("lab", help="bring up the local lab and run the pipeline on it")
    sub = parser.add_subparsers(dest="lab_command", metavar="ACTION", required=True)

    p_up = sub.add_parser("up", help="build images, start hosts and the lab Hub, seed datasets")
    p_up.add_argument("--json", action="store_true")
    p_up.set_defaults(handler=_up)

    p_down = sub.add_parser("down", help="remove every lab container, network and .lab/ (images stay cached)")
    p_down.add_argument("--images", action="store_true", help="also remove the images the lab built")
    p_down.add_argument("--json", action="store_true")
    p_down.set_defaults(handler=_down)

    p_run = sub.add_parser(
        "run", help="lab up, then a playbook (site.yml) for a recipe, shown as `groot-ops run` shows it"
    )
    p_run.add_argument("--recipe", default="lab-demo")
    p_run.add_argument("--playbook", default="site.yml", help="a stage playbook under playbooks/")
    p_run.add_argument("--check", action="store_true", help="run the playbook with --check --diff")
    p_run.add_argument("--json", action="store_true")
    p_run.set_defaults(handler=_run)

    p_status = sub.add_parser("status", help="what is running in the lab")
    p_status.add_argument("--json", action="store_true")
    p_status.set_defaults(handler=_status)


def _printer(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    return (lambda _msg: None) if args.json else (lambda msg: print(f"lab: {msg}", flush=True))


def _up(args: argparse.Namespace) -> int:
    from groot_ops.checkout import repo_root
    from groot_ops.lab.bringup import up

    result = up(repo_root(), say=_printer(args))
    print(json.dumps(result, indent=2) if args.json else f"lab: up in {result['seconds']}s")
    return 0


def _down(args: argparse.Namespace) -> int:
    from groot_ops.checkout import repo_root
    from groot_ops.lab.bringup import down

    result = down(repo_root(), say=_printer(args), remove_images=args.images)
    if args.json:
        print(json.dumps(result, indent=2))
    elif result["images_kept"]:
        print("lab: down (images stay cached; `groot-ops lab down --images` removes them too)")
    return 0


def _run(args: argparse.Namespace) -> int:
    from groot_ops.checkout import repo_root
    from groot_ops.cli.runner_cmd import finished_lines
    from groot_ops.errors import ConfigError
    from groot_ops.lab.bringup import up
    from groot_ops.lab.summary import lab_lines
    from groot_ops.runner.execute import execute
    from groot_ops.runner.invocation import STAGES, RunRequest

    repo = repo_root()
    stage = args.playbook.removesuffix(".yml")
    if stage not in STAGES:
        raise ConfigError(f"--playbook {args.playbook}: not a stage playbook ({', '.join(STAGES)})")
    state = up(repo, say=_printer(args))
    # The operator CLI's own run: its live output, its run directory (raw Ansible log included) and
    # summary. site.yml goes on to publish and deploy: training must have finished by then.
    request = RunRequest(
        stage=stage, recipe=args.recipe, check=args.check, diff=args.check, extravars={"wait": True}
    )
    outcome = execute(request, stream=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps({"ok": outcome.rc == 0, "recipe": args.recipe, "log": str(outcome.raw_log),
                          **outcome.summary(), "lab": state}, indent=2, default=str))  # fmt: skip
    else:
        for line in finished_lines(outcome, args.recipe):
            print(line)
        for line in lab_lines(repo, state, recipe=args.recipe):
            print(line)
    return 0 if outcome.rc == 0 else 1


def _status(args: argparse.Namespace) -> int:
    from groot_ops.checkout import repo_root
    from groot_ops.lab.bringup import status

    result = status(repo_root())
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for name, running in result["running"].items():
            print(f"{name:24} {'running' if running else 'absent'}")
    return 0
