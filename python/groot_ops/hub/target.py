"""How to reach the Hub: endpoint, token and the retry budget, carried as one value.

Download and upload each need the same settings at every Hub call; passing them as one frozen
value keeps the internal helpers' signatures short and makes it impossible to give one call a
different endpoint or token than its neighbours. The public functions (called by the Ansible
modules and the CLI) take the options as keywords (:class:`HubOptions`, the modules' ``hub_kwargs``)
and build their target with :meth:`HubTarget.from_params`, the one place that maps them.

The target also owns the operation's :class:`~groot_ops.hub.retry.RetryReporter`, so every call of
one download or upload reports its retries into the same list and progress file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from groot_ops.hub.client_env import pin_client_env
from groot_ops.hub.retry import RetryPolicy, RetryReporter, endpoint_of, with_retries

# huggingface_hub is an optional dependency (workstation/controller extras), imported only when used.
if TYPE_CHECKING:
    from huggingface_hub import HfApi

T = TypeVar("T")

DEFAULT_POLICY = RetryPolicy()


class HubRetryOptions(TypedDict, total=False):
    """The Hub options besides the token: module_utils ``hub_argument_spec`` less ``token``."""

    endpoint: str | None
    max_retries: int | None
    backoff_s: float
    retry_budget_s: float
    unreachable_budget_s: float
    progress_file: str | None


class HubOptions(HubRetryOptions, total=False):
    """Every option of ``hub_argument_spec`` (what the modules' ``hub_kwargs(params)`` returns)."""

    token: str | None


# Options where an empty string (an Ansible option left empty) means "not set".
_EMPTY_IS_UNSET = ("endpoint", "token", "progress_file")


@dataclass(frozen=True)
class HubTarget:
    """A Hub endpoint with the credentials and retry budget every call to it uses.

    ``repo_type`` is deliberately not here: it describes the repo being addressed, not the
    connection, and the upload side never sets it.
    """

    endpoint: str | None = None
    # repr=False: the target ends up in logs and tracebacks; the vault token must not.
    token: str | None = field(default=None, repr=False)
    # A cap on retries of one operation besides the time budgets; None: the budgets alone decide.
    max_retries: int | None = DEFAULT_POLICY.max_retries
    backoff_s: float = DEFAULT_POLICY.backoff_s
    retry_budget_s: float = DEFAULT_POLICY.budget_s
    unreachable_budget_s: float = DEFAULT_POLICY.unreachable_budget_s
    # JSON lines appended for every retry while it waits (read by a poller on the same host).
    progress_file: str | None = None
    reporter: RetryReporter = field(default=None, repr=False, compare=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.reporter is None:
            reporter = RetryReporter(endpoint=endpoint_of(self.endpoint), progress_file=self.progress_file)
            object.__setattr__(self, "reporter", reporter)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> HubTarget:
        """The target of :class:`HubOptions` (module params or a function's keywords); absent keys take
        the defaults, empty ``endpoint``/``token``/``progress_file`` mean unset, an unknown key is a
        ``TypeError`` as an unknown keyword argument would be."""
        unknown = sorted(set(params) - (HubOptions.__required_keys__ | HubOptions.__optional_keys__))
        if unknown:
            raise TypeError(f"unexpected Hub option(s): {', '.join(unknown)}")
        given = {k: (params[k] or None) if k in _EMPTY_IS_UNSET else params[k] for k in params}
        return cls(**given)

    @property
    def policy(self) -> RetryPolicy:
        return RetryPolicy(
            budget_s=self.retry_budget_s,
            unreachable_budget_s=self.unreachable_budget_s,
            backoff_s=self.backoff_s,
            max_retries=self.max_retries,
        )

    @property
    def endpoint_url(self) -> str:
        """The endpoint calls really go to (the explicit one, else ``HF_ENDPOINT``, else huggingface.co)."""
        return endpoint_of(self.endpoint)

    @property
    def retry_lines(self) -> list[str]:
        return list(self.reporter.lines)

    def api(self) -> HfApi:
        """A client bound to this endpoint and token."""
        pin_client_env(self.endpoint)
        from huggingface_hub import HfApi

        return HfApi(endpoint=self.endpoint, token=self.token)

    def retry(self, what: str, repo_id: str, func: Callable[[], T]) -> T:
        """``func`` under :func:`groot_ops.hub.retry.with_retries` with this target's budget."""
        return with_retries(what, repo_id, func, policy=self.policy, reporter=self.reporter)
