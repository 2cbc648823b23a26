"""``groot-ops plan``, ``groot-ops run`` and ``groot-ops status``: the playbooks for people."""

from __future__ import annotations

import argparse
import getpass
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from groot_ops.errors import ConfigError

RUN_EXAMPLES = """examples:
  groot-ops run site lab-demo                       # the whole pipeline for one recipe
  groot-ops run datasets hospitality-7ds -i inventory/production --vault-password-file ~/.vault-pass
  groot-ops run train fold-towel -e wait=true       # launch and follow training
  groot-ops run site lab-demo --check --diff --json # dry run, machine-readable summary
"""
PLAN_EXAMPLES = """examples:
  groot-ops plan lab-demo
  groot-ops plan hospitality-7ds -i inventory/production --vault-password-file ~/.vault-pass --json
"""
STATUS_EXAMPLES = """examples:
  groot-ops status lab-demo
  groot-ops status --json
  groot-ops status fold-towel -i inventory/production --plot loss.png
"""


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-i", "--inventory", help="inventory directory (default: inventory/lab)")
    parser.add_argument("--vault-password-file", help="passed through to ansible-playbook")
    parser.add_argument(
        "--ask-vault-pass", action="store_true", help="prompt for the vault password (kept in memory only)"
    )
    parser.add_argument("-e", "--extra-vars", action="append", default=[], metavar="KEY=VALUE|@FILE")
    parser.add_argument("--state-dir", help="where run directories go (default: .state/ in the checkout)")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.add_argument("--json", action="store_true", help="machine-readable output on stdout")


def _request(args: argparse.Namespace, stage: str, recipe: str | None, **overrides: Any):
    from groot_ops.runner.invocation import RunRequest, parse_extra_args

    if args.vault_password_file and args.ask_vault_pass:
        raise ConfigError("use either --vault-password-file or --ask-vault-pass, not both")
    vault_password = getpass.getpass("Vault password: ") if args.ask_vault_pass else None
    extravars, extra_vars_files = parse_extra_args(args.extra_vars)
    return RunRequest(
        stage=stage,
        recipe=recipe,
        inventory=args.inventory,
        extravars=extravars,
        extra_vars_files=extra_vars_files,
        vault_password_file=args.vault_password_file,
        vault_password=vault_password,
        verbosity=args.verbose,
        state_dir=Path(args.state_dir).resolve() if args.state_dir else None,
        **overrides,
    )


def _cmd_run(args: argparse.Namespace) -> int:
    from groot_ops.runner.execute import execute
    from groot_ops.runner.invocation import STAGES
    from groot_ops.runner.outcome import outcome as run_outcome

    targets = list(args.target)
    if len(targets) == 1:
        stage, recipe = ("site", targets[0]) if targets[0] not in STAGES else (targets[0], None)
    elif len(targets) == 2:
        stage, recipe = targets
    else:
        raise ConfigError("usage: groot-ops run [STAGE] RECIPE")
    request = _request(
        args,
        stage,
        recipe,
        check=args.check,
        diff=args.diff,
        tags=args.tags,
        skip_tags=args.skip_tags,
        limit=args.limit,
    )
    stream = sys.stderr if args.json else sys.stdout
    outcome = execute(request, stream=stream)
    if args.json:
        print(
            json.dumps(
                {**outcome.summary(), "outcome": vars(run_outcome(outcome.recorder, recipe=recipe))}, indent=2
            )
        )
    else:
        for line in finished_lines(outcome, recipe):
            print(line)
    return outcome.rc


def finished_lines(outcome: Any, recipe: str | None) -> list[str]:
    """The end of a run for people: counts, failures with advice, what was trained/published/served, logs."""
    from groot_ops.runner.outcome import outcome as run_outcome

    lines = outcome.summary_lines()
    produced = run_outcome(outcome.recorder, recipe=recipe).lines()
    if produced:
        lines[-1:-1] = ["", *produced, ""]
    lines.append(
        f"Run directory: {outcome.run_dir} (events.jsonl, summary.json; raw Ansible log {outcome.raw_log})"
    )
    return lines


def _cmd_plan(args: argparse.Namespace) -> int:
    from groot_ops.runner.execute import execute
    from groot_ops.runner.plan import plan_lines

    request = _request(args, "site", args.recipe, check=True, diff=True, limit=args.limit)
    # Progress on stderr from the first second (the plan itself goes to stdout at the end).
    outcome = execute(
        request,
        stream=sys.stderr,
        announce=f"plan: dry run of site.yml for recipe {args.recipe} (--check --diff), nothing is changed",
    )
    lines = plan_lines(outcome.recorder)
    if args.json:
        print(json.dumps({**outcome.summary(), "plan": lines}, indent=2))
        return outcome.rc
    print(f"Plan for recipe {args.recipe} (dry run, nothing changed):")
    if not lines:
        print("  nothing to do")
    for entry in lines:
        print(f"  {entry['host']}: {entry['plan']}")
    if outcome.rc != 0:
        for line in outcome.summary_lines():
            print(line)
    print(f"Run directory: {outcome.run_dir} (raw Ansible log {outcome.raw_log})")
    return outcome.rc


def _last_recipe(state_dir: Path) -> str:
    """Without a recipe, status is about the recipe of the newest run in the state directory."""
    from groot_ops.runner.execute import recent_runs

    for run in recent_runs(state_dir, limit=50):
        if run.get("recipe"):
            return str(run["recipe"])
    raise ConfigError(f"no recipe given and no earlier run in {state_dir}: groot-ops status RECIPE")


def _cmd_status(args: argparse.Namespace) -> int:
    from groot_ops.runner.execute import execute, recent_runs
    from groot_ops.runner.invocation import default_state_dir, repo_root
    from groot_ops.runner.render import failure_lines, progress_bar
    from groot_ops.runner.status import collect_status

    state_dir = Path(args.state_dir).resolve() if args.state_dir else default_state_dir(repo_root())
    recipe = args.recipe or _last_recipe(state_dir)
    request = _request(args, "status", recipe)
    outcome = execute(request, stream=sys.stderr, quiet=True)
    status = collect_status(outcome.recorder, recipe)
    status["last_runs"] = recent_runs(state_dir)
    if args.plot:
        plot = status.get("loss_plot")
        if not plot or not Path(plot).is_file():
            found = (
                sorted((state_dir / "status").glob("*/loss.png")) if (state_dir / "status").is_dir() else []
            )
            plot = str(found[0]) if found else None
        if plot:
            shutil.copyfile(plot, args.plot)
            status["plot_saved"] = str(Path(args.plot).resolve())
        else:
            status["plot_saved"] = None
    if args.json:
        print(json.dumps({**status, "rc": outcome.rc}, indent=2, default=str))
        return outcome.rc
    print(f"Recipe: {status['recipe'] or '-'}")
    training = outcome.recorder.training.get(status["host"]) if status["host"] else None
    if training is not None:
        print(f"Training on {training.host}: {progress_bar(training)}")
        for line in failure_lines(training):
            print(f"  {line}")
        if training.nonfinite:
            print(f"  NaN/inf at step {training.nonfinite.get('step')}")
        if training.note:
            print(f"  {training.note}")
    elif outcome.rc != 0:
        # The status run itself failed: say why instead of claiming there is no training run.
        print("Training: unknown, the status run failed (below)")
    else:
        print("Training: no run found")
    if status["disk_free_bytes"] is not None:
        print(f"Disk free: {status['disk_free_bytes'] / 1e9:.1f} GB")
    deployed = status["deployed_revision"]
    repo = f"{status['deployed_repo_id']}@" if deployed and status.get("deployed_repo_id") else ""
    print(f"Deployed: {repo}{deployed or '-'}{_serving_details(status.get('deployed') or {})}")
    if args.plot:
        print(f"Loss plot: {status['plot_saved'] or 'not available'}")
    print("Last runs:")
    for run in status["last_runs"]:
        mode = " (dry run)" if run.get("check") else ""
        why = f": {run['failure']}" if run.get("rc") and run.get("failure") else ""
        print(f"  run {run['stage']}{mode} {run['recipe'] or ''} rc={run['rc']} {run['finished']}{why}")
    if outcome.rc != 0:
        for line in outcome.summary_lines()[1:]:
            print(line)
    return outcome.rc


def _serving_details(deployed: dict[str, Any]) -> str:
    """What the deploy's status says of the server beyond the revision: its container, the probe, a note."""
    parts = []
    if deployed.get("container"):
        parts.append(f"container {deployed['container']}")
    if "answering" in deployed:
        parts.append("answering the probe" if deployed["answering"] else "NOT answering the probe")
    if deployed.get("probe_error") and not deployed.get("answering"):
        parts.append(str(deployed["probe_error"]).splitlines()[0])
    for key in ("note", "last_failure"):
        if deployed.get(key):
            value = deployed[key]
            parts.append(
                str(value.get("message", value) if isinstance(value, dict) else value).splitlines()[0]
            )
    return f" ({'; '.join(parts)})" if parts else ""


def register(subparsers: argparse._SubParsersAction) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    plan = subparsers.add_parser(
        "plan", help="dry run of site.yml, summarised", epilog=PLAN_EXAMPLES, formatter_class=fmt
    )
    plan.add_argument("recipe")
    plan.add_argument("--limit")
    _common(plan)
    plan.set_defaults(handler=_cmd_plan)

    run = subparsers.add_parser(
        "run", help="run a stage playbook (or site) for a recipe", epilog=RUN_EXAMPLES, formatter_class=fmt
    )
    run.add_argument("target", nargs="+", metavar="[STAGE] RECIPE")
    run.add_argument("--check", action="store_true")
    run.add_argument("--diff", action="store_true")
    run.add_argument("--tags")
    run.add_argument("--skip-tags")
    run.add_argument("--limit")
    _common(run)
    run.set_defaults(handler=_cmd_run)

    status = subparsers.add_parser(
        "status",
        help="training progress, disk, deployed model, last runs",
        epilog=STATUS_EXAMPLES,
        formatter_class=fmt,
    )
    status.add_argument("recipe", nargs="?")
    status.add_argument("--plot", metavar="PNG", help="save the loss curve here")
    _common(status)
    status.set_defaults(handler=_cmd_status)
