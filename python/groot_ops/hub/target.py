"""How to reach the Hub: endpoint, token and the retry budget, carried as one value.

Download and upload each need the same four settings at every Hub call; passing them as one
frozen value keeps the internal helpers' signatures short and makes it impossible to give one
call a different endpoint or token than its neighbours. The public functions (called by the
Ansible modules and the CLI) keep their keyword parameters and build a ``HubTarget`` inside.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from groot_ops.hub.retry import with_retries

# huggingface_hub is an optional dependency (workstation/controller extras), imported only when used.
if TYPE_CHECKING:
    from huggingface_hub import HfApi

T = TypeVar("T")


@dataclass(frozen=True)
class HubTarget:
    """A Hub endpoint with the credentials and retry budget every call to it uses.

    ``repo_type`` is deliberately not here: it describes the repo being addressed, not the
    connection, and the upload side never sets it.
    """

    endpoint: str | None = None
    # repr=False: the target ends up in logs and tracebacks; the vault token must not.
    token: str | None = field(default=None, repr=False)
    max_retries: int = 5
    backoff_s: float = 1.0

    def api(self) -> HfApi:
        """A client bound to this endpoint and token."""
        from huggingface_hub import HfApi

        return HfApi(endpoint=self.endpoint, token=self.token)

    def retry(self, what: str, repo_id: str, func: Callable[[], T]) -> T:
        """``func`` under :func:`groot_ops.hub.retry.with_retries` with this target's budget."""
        return with_retries(what, repo_id, func, max_retries=self.max_retries, backoff_s=self.backoff_s)
