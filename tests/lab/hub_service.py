"""The lab Hub service: ``tests.hub_server`` answering with URLs built from each request's Host.

The lab Hub is reached under two names, ``127.0.0.1:<published port>`` from the controller and
``groot-ops-lab-hub:8080`` from lab containers; huggingface_hub rejects repo and LFS URLs whose
host differs from its endpoint, so every URL the server returns must use the name the client used.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from tests.hub_server.server import HubServer


class LabHubServer(HubServer):
    """A HubServer whose ``url`` is the ``Host`` the current request was sent to."""

    def __init__(self, root: str | Path, **kwargs: Any) -> None:
        super().__init__(root, **kwargs)
        local = threading.local()
        self._request = local
        base = self._httpd.RequestHandlerClass

        class HostAwareHandler(base):  # type: ignore[misc, valid-type]
            def parse_request(self) -> bool:
                ok = bool(super().parse_request())
                if ok:
                    local.host = self.headers.get("Host")
                return ok

        self._httpd.RequestHandlerClass = HostAwareHandler

    @property
    def url(self) -> str:
        host = getattr(self._request, "host", None)
        return f"http://{host}" if host else super().url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.lab.hub_service", description=__doc__)
    parser.add_argument("--root", required=True)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--token-file", required=True, help="file holding the lab write token")
    args = parser.parse_args(argv)
    token = Path(args.token_file).read_text().strip()
    if not token:
        parser.error(f"{args.token_file}: empty token file")
    hub = LabHubServer(args.root, tokens={token: "lab"}, host=args.host, port=args.port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"lab hub listening on {args.host}:{args.port} (pid {os.getpid()})", flush=True)
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        hub.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
