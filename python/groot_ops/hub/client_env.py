"""Keep huggingface_hub on the configured endpoint: no call to any other host.

huggingface_hub 2.4 builds its User-Agent with an "agent harness" registry fetched from
``constants.ENDPOINT`` (``HF_ENDPOINT``, else huggingface.co) on the first request of a process, even
when every call passes ``endpoint=``; the fetch is skipped only with telemetry off. On the lab's
internal network that lookup cost ~10 s per module run; in production it is a call to a host the
recipe did not name. The roles set ``HF_ENDPOINT`` and ``HF_HUB_DISABLE_TELEMETRY=1`` in the
environment of every Hub task (``groot_hub_env``); this is the same rule applied from inside, for
callers that did not (the CLI, tests, a module run by hand).
"""

from __future__ import annotations

import os
import sys


def pin_client_env(endpoint: str | None) -> None:
    """Telemetry off and, before huggingface_hub is imported, ``HF_ENDPOINT`` = ``endpoint``.

    Call before the first import of huggingface_hub where possible: its constants are read at
    import time. Once imported, only the telemetry flag can still be changed (it is read per call).
    """
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    if endpoint and "huggingface_hub" not in sys.modules:
        os.environ["HF_ENDPOINT"] = endpoint.rstrip("/")
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        # Read at call time by the User-Agent builder; True skips the registry fetch.
        constants.HF_HUB_DISABLE_TELEMETRY = True
