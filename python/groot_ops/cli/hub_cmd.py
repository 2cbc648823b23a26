"""``groot-ops hub download|export|card|publish``: the Hub side from a shell.

The token is read from the environment (``HF_TOKEN`` or ``--token-env NAME``), never from argv,
so that it stays out of process lists and shell history.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
from typing import Any

from groot_ops.cli.output import emit
from groot_ops.errors import InputError

EXAMPLES = """examples:
  groot-ops hub download unitreerobotics/G1_Fold_Towel --revision v1.0 --local-dir /tmp/raw/fold \\
      --ego-camera cam_left_high --alias unitreerobotics/G1_Dex1_FoldTowel_Dataset
  groot-ops hub export /workspace/checkpoints/demo /workspace/exports/demo/step-20 --json
  groot-ops hub card /workspace/exports/demo/step-20 --provenance provenance.json --loss-curve loss.png
  HF_TOKEN=... groot-ops hub publish /workspace/exports/demo/step-20 me/demo --tag step-20
"""


# ``diff`` is the before/after that Ansible's --diff shows; the CLI's JSON is the result alone.
_emit = functools.partial(emit, omit=("diff",))


def _state(result: dict[str, Any], check: bool, done: str, would: str) -> str:
    if not result["changed"]:
        return "unchanged"
    return f"would {would}" if check else done


def _token(args: argparse.Namespace, required: bool) -> str | None:
    token = os.environ.get(args.token_env) or None
    if required and not token:
        raise InputError(f"set the Hub token in the environment variable {args.token_env} (never on argv)")
    return token


def _download(args: argparse.Namespace) -> int:
    from groot_ops.hub.download import download_dataset

    result = download_dataset(
        args.repo_id,
        args.revision,
        args.local_dir,
        aliases=args.alias,
        token=_token(args, required=False),
        endpoint=args.endpoint,
        ego_camera=args.ego_camera,
        check=args.check,
        max_retries=args.max_retries,
        retry_budget_s=args.retry_budget_s,
        unreachable_budget_s=args.unreachable_budget_s,
    )
    _emit(
        result,
        args.json,
        f"{_state(result, args.check, 'downloaded', 'download')}: "
        f"{result['repo_id']}@{args.revision} -> {result['sha']} "
        f"({result['files']} files, {result['bytes']} bytes) in {result['local_dir']}",
    )
    return 0


def _export(args: argparse.Namespace) -> int:
    from groot_ops.hub.export import export_inference_model

    result = export_inference_model(args.checkpoint, args.export_dir, check=args.check, step=args.step)
    _emit(
        result,
        args.json,
        f"{_state(result, args.check, 'exported', 'export')}: "
        f"{result['checkpoint']} -> {result['export_dir']} "
        f"({len(result['files'])} files, {result['bytes']} bytes)",
    )
    return 0


def _card(args: argparse.Namespace) -> int:
    from groot_ops.hub.modelcard import write_model_card

    try:
        with open(args.provenance, encoding="utf-8") as handle:
            provenance = json.load(handle)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read provenance JSON ({exc})", path=args.provenance) from None
    if "files" not in provenance:
        from groot_ops.hub.export import list_export_files

        provenance["files"] = list_export_files(args.export_dir)
    result = write_model_card(args.export_dir, provenance, loss_curve=args.loss_curve, check=args.check)
    _emit(result, args.json, f"{_state(result, args.check, 'wrote', 'write')}: {result['card']}")
    return 0


def _publish(args: argparse.Namespace) -> int:
    from groot_ops.hub.upload import publish_folder

    result = publish_folder(
        args.folder,
        args.repo_id,
        token=_token(args, required=True) or "",
        private=not args.public,
        tag=args.tag,
        commit_message=args.message,
        endpoint=args.endpoint,
        check=args.check,
        max_retries=args.max_retries,
        retry_budget_s=args.retry_budget_s,
        unreachable_budget_s=args.unreachable_budget_s,
    )
    _emit(
        result,
        args.json,
        f"{_state(result, args.check, 'published', 'publish')}: "
        f"{args.repo_id}@{result['commit']} tag {result['tag']} "
        f"({len(result['uploaded_files'])} files, {result['uploaded_bytes']} bytes sent)",
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "hub",
        help="download datasets, export and publish models (Hugging Face Hub)",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="hub_command", metavar="ACTION", required=True)

    def common(p: argparse.ArgumentParser, *, hub: bool) -> None:
        p.add_argument("--check", action="store_true", help="report what would change, write nothing")
        p.add_argument("--json", action="store_true", help="one JSON object on stdout")
        if hub:
            p.add_argument(
                "--endpoint", default=None, help="Hub URL (default: HF_ENDPOINT or huggingface.co)"
            )
            p.add_argument("--token-env", default="HF_TOKEN", help="environment variable holding the token")
            p.add_argument("--max-retries", type=int, default=None, help="cap on retries (default: none)")
            p.add_argument(
                "--retry-budget-s",
                type=float,
                default=900.0,
                help="seconds of retries on 429/5xx (default 900)",
            )
            p.add_argument(
                "--unreachable-budget-s",
                type=float,
                default=120.0,
                help="seconds of retries while the endpoint cannot be reached (default 120)",
            )

    p = sub.add_parser("download", help="download a dataset at a pinned revision")
    p.add_argument("repo_id")
    p.add_argument("--revision", required=True, help="branch, tag or commit; the resolved sha is reported")
    p.add_argument("--local-dir", required=True)
    p.add_argument("--alias", action="append", default=[], help="older/renamed repo name to try (repeatable)")
    p.add_argument("--ego-camera", default=None, help="fetch only meta/, data/ and this camera's videos")
    common(p, hub=True)
    p.set_defaults(handler=_download)

    p = sub.add_parser("export", help="inference-only hardlink export of a checkpoint")
    p.add_argument("checkpoint", help="checkpoint-N directory or the training output directory")
    p.add_argument("export_dir")
    p.add_argument("--step", type=int, default=None, help="checkpoint step (default: newest complete)")
    common(p, hub=False)
    p.set_defaults(handler=_export)

    p = sub.add_parser("card", help="write the model card README.md into an export")
    p.add_argument("export_dir")
    p.add_argument("--provenance", required=True, help="JSON file (schema: groot_ops.hub.modelcard)")
    p.add_argument("--loss-curve", default=None, help="PNG copied next to the card")
    common(p, hub=False)
    p.set_defaults(handler=_card)

    p = sub.add_parser("publish", help="upload an export (private by default) and tag the commit")
    p.add_argument("folder")
    p.add_argument("repo_id")
    p.add_argument("--tag", default=None, help="tag for the commit, e.g. step-20000")
    p.add_argument("--public", action="store_true", help="create the repo public (default private)")
    p.add_argument("--message", default="", help="commit message")
    common(p, hub=True)
    p.set_defaults(handler=_publish)
