"""``python -m tests.hub_server --root DIR --port 8000 --token NAME=TOKEN ...`` for the lab."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys

from tests.hub_server.server import TREE_PAGE_SIZE, HubServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.hub_server", description=__doc__)
    parser.add_argument("--root", required=True, help="storage directory (kept across restarts)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--token-env",
        default="HUB_SERVER_TOKENS",
        help="environment variable holding USER=TOKEN pairs separated by commas (tokens stay off argv)",
    )
    parser.add_argument("--xet-cas-dir", default=None, help="enable Xet uploads into hf_xet's local:// CAS")
    parser.add_argument(
        "--tree-page-size",
        type=int,
        default=TREE_PAGE_SIZE,
        help=f"entries per tree listing page (default {TREE_PAGE_SIZE}, as on huggingface.co)",
    )
    args = parser.parse_args(argv)
    tokens = {}
    for pair in filter(None, os.environ.get(args.token_env, "").split(",")):
        user, _, token = pair.partition("=")
        if not token:
            parser.error(f"{args.token_env}: expected USER=TOKEN pairs, got an entry without '='")
        tokens[token] = user
    if args.tree_page_size < 1:
        parser.error("--tree-page-size must be at least 1")
    hub = HubServer(
        args.root,
        tokens=tokens,
        host=args.host,
        port=args.port,
        xet_cas_dir=args.xet_cas_dir,
        tree_page_size=args.tree_page_size,
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"hub server listening on {hub.url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        hub.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
