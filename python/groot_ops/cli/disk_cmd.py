"""``groot-ops disk``: the disk guard by hand (report, clean, will-the-next-checkpoint-fit)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from groot_ops.cli.output import emit
from groot_ops.errors import ConfigError, InputError

EXAMPLES = """examples:
  groot-ops disk report --config disk.yml          # reclaimable bytes per step, deletes nothing
  groot-ops disk clean --config disk.yml --check   # what the watermarks would delete now
  groot-ops disk clean --config disk.yml --all     # reclaim everything outside the protected set
  groot-ops disk fits --config disk.yml --checkpoint-bytes 22000000000 --json
"""


def _load_config(path: str) -> dict[str, Any]:
    import yaml

    source = Path(path)
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read disk guard config: {exc.strerror}", path=str(source)) from None
    except yaml.YAMLError as exc:
        raise InputError(f"disk guard config is not YAML/JSON: {exc}", path=str(source)) from None
    if not isinstance(data, dict):
        raise InputError("disk guard config must be a mapping", path=str(source))
    return data


def _print(result: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    # ``diff`` is the before/after that Ansible's --diff shows; the CLI's JSON is the result alone.
    emit(result, as_json, "\n".join(lines), indent=2, omit=("diff",))


def _step_lines(result: dict[str, Any], verb: str) -> list[str]:
    lines = []
    for step in result["steps"]:
        note = f" ({step['skipped']})" if step.get("skipped") else ""
        lines.append(f"  {step['name']:<22} {verb} {_gib(step['freed_bytes'])}{note}")
        lines.extend(f"      {item}" for item in step["items"])
        lines.extend(f"      kept: {item}" for item in step["protected"])
    return lines


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def _cmd_report(args: argparse.Namespace) -> int:
    from groot_ops.disk.config import DiskGuardConfig
    from groot_ops.disk.policy import run_policy

    config = dataclasses.replace(DiskGuardConfig.from_dict(_load_config(args.config)), target="all")
    result = run_policy(config, check=True)
    result["reclaimable_bytes"] = result["freed_bytes"]
    lines = [
        f"{config.watch_path}: {_gib(result['free_before'])} free of {_gib(result['total_bytes'])}, "
        f"{_gib(result['freed_bytes'])} reclaimable",
        *_step_lines(result, "reclaimable"),
    ]
    _print(result, args.json, lines)
    return 0


def _cmd_clean(args: argparse.Namespace) -> int:
    from groot_ops.disk.config import DiskGuardConfig
    from groot_ops.disk.policy import run_policy

    config = DiskGuardConfig.from_dict(_load_config(args.config))
    if args.all:
        config = dataclasses.replace(config, target="all")
    if args.need_bytes < 0:
        raise ConfigError(f"--need-bytes must be >= 0, got {args.need_bytes}")
    result = run_policy(config, check=args.check, need_bytes=args.need_bytes)
    verb = "would free" if args.check else "freed"
    head = (
        f"{config.watch_path}: {verb} {_gib(result['freed_bytes'])}; "
        f"free {_gib(result['free_before'])} -> {_gib(result['free_after'])}"
    )
    lines = [head if result["acted"] else f"{config.watch_path}: above the watermarks, nothing to do"]
    lines += _step_lines(result, verb)
    _print(result, args.json, lines)
    return 0 if result["ok"] else 3


def _cmd_fits(args: argparse.Namespace) -> int:
    from groot_ops.disk.watchdog import ensure_fits

    result = ensure_fits(_load_config(args.config), next_checkpoint_bytes=args.checkpoint_bytes)
    _print(result, args.json, [f"{result['status']}: {result['message']}"])
    return 0 if result["status"] != "insufficient" else 3


def register(subparsers: argparse._SubParsersAction) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    disk = subparsers.add_parser(
        "disk", help="disk guard: report, clean, checkpoint fit", epilog=EXAMPLES, formatter_class=fmt
    )
    sub = disk.add_subparsers(dest="disk_command", metavar="ACTION", required=True)

    def common(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--config", required=True, help="disk guard config (YAML or JSON mapping)")
        parser.add_argument("--json", action="store_true", help="machine-readable output on stdout")

    report = sub.add_parser("report", help="reclaimable bytes per cleanup step; deletes nothing")
    common(report)
    report.set_defaults(handler=_cmd_report)

    clean = sub.add_parser("clean", help="run the cleanup policy (exit 3 when still short of space)")
    common(clean)
    clean.add_argument("--check", action="store_true", help="report what would be deleted")
    clean.add_argument("--all", action="store_true", help="ignore watermarks: reclaim everything")
    clean.add_argument("--need-bytes", type=int, default=0, help="bytes that must fit afterwards")
    clean.set_defaults(handler=_cmd_clean)

    fits = sub.add_parser("fits", help="the training watchdog: clean if the next checkpoint would not fit")
    common(fits)
    fits.add_argument("--checkpoint-bytes", type=int, help="size of the next checkpoint (default: learned)")
    fits.set_defaults(handler=_cmd_fits)
