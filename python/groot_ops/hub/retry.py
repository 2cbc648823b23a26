"""Retries of whole Hub operations within a time budget, honouring the Hub's ``Retry-After``.

Two layers retry, and each does what the other cannot:

- huggingface_hub 2.x retries single requests itself (``http_backoff``: file downloads, tree pages,
  LFS, commits) up to 5 times, waiting ``Retry-After`` (or the ``RateLimit`` reset) on a 429. It does
  not cover every call (``repo_info``, the revision lookup, raises at once), nor a whole snapshot.
- :func:`with_retries` retries the whole operation until a **time budget** is spent, never a fixed
  count of short waits: huggingface.co counts requests in windows of minutes (``RateLimit: ...;t=N``),
  which the original runbook's fixed retries could not outlast. Each wait is the Hub's own
  ``Retry-After``/``RateLimit`` reset when it sent one, else exponential backoff; a wait that cannot fit
  in the budget gives up at once instead of sleeping into certain failure.

A Hub that cannot be reached at all (name resolution, refused or timed-out connections) gets a
shorter budget of its own (``unreachable_budget_s``): it is usually a wrong endpoint or a network down,
and the operator should hear that, with the endpoint named, in about two minutes, not fifteen.

Every wait is reported as it starts, as one line (:class:`RetryReporter`): to the log, into the
result (``retries``), and, when given, appended to a JSON-lines progress file that a poller on the
same host reads while the operation runs (see :mod:`groot_ops.hub.progress`). The client's own
per-request retries are reported the same way (its log warnings are captured during the operation).
tenacity would give the loop but not the Hub-specific parts (which waits the Hub asked for, which
failures are unreachable, the lines); it is not a dependency of the training env, so the loop is ours.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as _dt
import email.utils
import functools
import importlib
import logging
import os
import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from groot_ops.errors import GrootOpsError

T = TypeVar("T")
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
DEFAULT_ENDPOINT = "https://huggingface.co"
log = logging.getLogger(__name__)


class HubAuthError(GrootOpsError):
    """The Hub refused the credentials: retrying cannot help."""


class HubUnavailableError(GrootOpsError):
    """The Hub kept failing with transient errors until the retry budget was spent."""


class HubUnreachableError(HubUnavailableError):
    """The Hub's endpoint could not be reached at all (name resolution, connection refused or timed out)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How long one Hub operation may keep retrying.

    ``budget_s``: time for 429/5xx/dropped connections (huggingface.co's rate-limit windows are
    5 minutes; 15 minutes outlasts two of them). ``unreachable_budget_s``: time while the endpoint
    cannot be reached at all. ``max_retries``: a cap on retries besides the budgets (None: none).
    """

    budget_s: float = 900.0
    unreachable_budget_s: float = 120.0
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    max_retries: int | None = None


def http_status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


@functools.cache
def transport_errors() -> tuple[type[BaseException], ...]:
    """Connection-level errors of whichever HTTP stack the installed huggingface_hub uses.

    hub 2.x raises ``httpx2`` errors, 1.x ``httpx``, 0.x ``requests``; none derive from the
    builtin ``ConnectionError``, so each is looked up where installed.
    """
    found: list[type[BaseException]] = [ConnectionError, TimeoutError]
    for module_name, names in (
        ("httpx2", ("TransportError",)),
        ("httpx", ("TransportError",)),
        ("requests.exceptions", ("ConnectionError", "Timeout", "ChunkedEncodingError")),
    ):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        found += [getattr(module, name) for name in names if hasattr(module, name)]
    return tuple(found)


@functools.cache
def _connect_errors() -> tuple[type[BaseException], ...]:
    """Errors raised before a request reached the server: the endpoint is unreachable."""
    found: list[type[BaseException]] = [socket.gaierror, ConnectionRefusedError]
    for module_name, names in (
        ("httpx2", ("ConnectError", "ConnectTimeout")),
        ("httpx", ("ConnectError", "ConnectTimeout")),
        ("requests.exceptions", ("ConnectionError",)),
    ):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        found += [getattr(module, name) for name in names if hasattr(module, name)]
    return tuple(found)


class HubIncompleteDownload(ConnectionError):
    """A snapshot came back without every file: huggingface_hub returns what is on disk, with only a log
    warning, when the Hub cannot be reached once a download has begun. Retried as an unreachable Hub."""


def causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it was raised from: huggingface_hub wraps a failed connection into
    ``LocalEntryNotFoundError`` ("An error happened while trying to locate the file on the Hub")."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 8:
        chain.append(current)
        current = current.__cause__
    return chain


def _transient_one(exc: BaseException) -> bool:
    status = http_status(exc)
    if status is not None:
        return status in TRANSIENT_STATUS
    return isinstance(exc, transport_errors())


def is_transient(exc: BaseException) -> bool:
    return any(_transient_one(cause) for cause in causes(exc))


def is_unreachable(exc: BaseException) -> bool:
    """True when the request never reached a server (nothing answered, not even with an error)."""
    for cause in causes(exc):
        if http_status(cause) is not None:
            return False
        if isinstance(cause, (*_connect_errors(), HubIncompleteDownload)):
            return True
    return False


def _headers(exc: BaseException) -> dict[str, str]:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    try:
        return {str(k).lower(): str(v) for k, v in headers.items()}
    except AttributeError:
        return {}


_RATELIMIT = re.compile(r"\br=(\d+)\s*;\s*t=(\d+)")


def retry_after_s(exc: BaseException, *, now: float | None = None) -> float | None:
    """Seconds the Hub asked to wait: ``Retry-After`` (seconds or an HTTP date), else the reset of an
    exhausted ``RateLimit`` window (``"api";r=0;t=55``); None when it said nothing."""
    headers = _headers(exc)
    value = headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    if value:
        with contextlib.suppress(TypeError, ValueError, IndexError):
            when = email.utils.parsedate_to_datetime(value)
            if when.tzinfo is None:
                when = when.replace(tzinfo=_dt.timezone.utc)
            return max(0.0, when.timestamp() - (time.time() if now is None else now))
    match = _RATELIMIT.search(headers.get("ratelimit", ""))
    if match and int(match.group(1)) == 0:
        return float(match.group(2))
    return None


def human_seconds(seconds: float) -> str:
    """``45 s``, ``2 min 4 s``, ``1 h 3 min``: how long the operator waited or will wait."""
    whole = round(seconds)
    if seconds < 10 and whole < 10:
        return f"{seconds:.1f} s".replace(".0 s", " s")
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def short_error(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _root(exc: BaseException) -> BaseException:
    """The cause that says what went wrong (the HTTP or connection error inside a wrapper)."""
    return next((c for c in causes(exc) if _transient_one(c)), exc)


def _reason(exc: BaseException, asked: float | None) -> str:
    status = http_status(_root(exc))
    if status is None:
        kind = "unreachable" if is_unreachable(exc) else "connection failed"
        return f"{kind}: {short_error(_root(exc))}"
    reason = f"HTTP {status}"
    if asked is not None:
        reason += f", the Hub asked to wait {human_seconds(asked)}"
    return reason


@dataclass
class RetryReporter:
    """Where retry lines go while an operation waits: the log, ``lines`` (returned in results) and,
    when ``progress_file`` is set, one JSON object per line appended to it (flushed at once)."""

    endpoint: str = DEFAULT_ENDPOINT
    progress_file: str | None = None
    lines: list[str] = field(default_factory=list)
    # The client retries each file of a snapshot on its own (8 at a time): the same line from each of
    # them says nothing new. A line repeated within the last few is reported once.
    _recent: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=16), repr=False)

    def emit(self, kind: str, line: str, **fields: Any) -> None:
        if kind == "client_retry" and line in self._recent:
            return
        self._recent.append(line)
        self.lines.append(line)
        log.warning("%s", line)
        if not self.progress_file:
            return
        from groot_ops.hub.progress import append_record

        # Progress is best effort: a full disk must not turn a retry into a failure.
        with contextlib.suppress(OSError):
            append_record(self.progress_file, kind, line, endpoint=self.endpoint, **fields)


class _ClientRetryLines(logging.Handler):
    """Turns huggingface_hub's own per-request retry warnings into retry lines, within the budget.

    The client logs each wait just before it sleeps (``Rate limited. Waiting 301.0s before retry``); a
    wait that would end after ``deadline`` raises here instead, so that its own retries (up to 5 x the
    Hub's ``Retry-After`` per request) cannot run past the operation's budget. A logging handler's
    exception propagates to the logging call (``Handler.handle`` does not catch it).
    """

    _RETRY = re.compile(r"(Retrying in|Rate limited\. Waiting) ([0-9.]+)s")

    def __init__(
        self,
        reporter: RetryReporter,
        what: str,
        repo_id: str,
        deadline: float | None = None,
        budget_s: float | None = None,
    ) -> None:
        super().__init__(logging.WARNING)
        self.reporter, self.what, self.repo_id = reporter, what, repo_id
        self.deadline, self.budget_s = deadline, budget_s
        self.last_error = ""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record must not break the download
            return
        match = self._RETRY.search(text)
        if match is None:
            # "HTTP Error 429 thrown while requesting GET ..." or "'<error>' thrown while requesting ...":
            # the cause, logged just before the wait.
            self.last_error = text.split(" thrown while requesting")[0].strip("'")[:200]
            return
        attempt = re.search(r"\[Retry (\d+)/(\d+)\]", text)
        count = f" {attempt.group(1)}/{attempt.group(2)}" if attempt else ""
        wait = float(match.group(2))
        if self.deadline is not None and time.monotonic() + wait > self.deadline:
            message = (
                f"Hub {self.reporter.endpoint} kept failing {self.what} of {self.repo_id}: "
                f"{self.last_error or 'request failed'}; the client's next wait ({human_seconds(wait)}) "
                f"would exceed the retry budget of {human_seconds(self.budget_s or 0)}"
            )
            self.reporter.emit("gave_up", message, what=self.what, repo_id=self.repo_id, wait_s=wait)
            raise HubUnavailableError(message)
        self.reporter.emit(
            "client_retry",
            f"Hub {self.reporter.endpoint}: {self.what} of {self.repo_id}: "
            f"{self.last_error or 'request failed'}; client retry{count} in {human_seconds(wait)}",
            what=self.what,
            repo_id=self.repo_id,
            wait_s=wait,
        )


@contextlib.contextmanager
def client_retry_lines(
    reporter: RetryReporter,
    what: str,
    repo_id: str,
    *,
    deadline: float | None = None,
    budget_s: float | None = None,
) -> Iterator[None]:
    """Report huggingface_hub's per-request retries (its ``utils._http`` warnings) while inside; a client
    wait that would end after ``deadline`` (``time.monotonic()``) fails the operation instead."""
    logger = logging.getLogger("huggingface_hub.utils._http")
    handler = _ClientRetryLines(reporter, what, repo_id, deadline, budget_s)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def with_retries(
    what: str,
    repo_id: str,
    func: Callable[[], T],
    *,
    policy: RetryPolicy | None = None,
    reporter: RetryReporter | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Run ``func``; retry transient failures until the policy's budget is spent.

    ``what`` and ``repo_id`` name the operation in lines and errors; the token never appears in them
    because only the client's status and message are quoted.
    """
    policy = policy or RetryPolicy()
    reporter = reporter or RetryReporter()
    started = clock()
    # The client's own waits are real time, whatever clock the caller measures with.
    deadline = time.monotonic() + policy.budget_s
    retries = 0
    while True:
        try:
            with client_retry_lines(reporter, what, repo_id, deadline=deadline, budget_s=policy.budget_s):
                return func()
        except GrootOpsError:
            raise
        except Exception as exc:
            status = http_status(exc)
            if status in (401, 403) and not _is_repo_not_found(exc):
                raise HubAuthError(
                    f"Hub {reporter.endpoint} refused the credentials for {what} on {repo_id} "
                    f"(HTTP {status}): check that the vault token exists and has access to this repo"
                ) from None
            if not is_transient(exc):
                raise
            wait = _next_wait(exc, retries, policy, reporter, what, repo_id, clock() - started)
            sleep(wait)
            retries += 1


def _next_wait(
    exc: BaseException,
    retries: int,
    policy: RetryPolicy,
    reporter: RetryReporter,
    what: str,
    repo_id: str,
    elapsed: float,
) -> float:
    """The wait before the next attempt, reported; or the error that ends the operation."""
    unreachable = is_unreachable(exc)
    budget = policy.unreachable_budget_s if unreachable else policy.budget_s
    asked = retry_after_s(_root(exc))
    backoff = min(policy.max_backoff_s, policy.backoff_s * (2**retries))
    # The Hub's own wait is honoured in full, even beyond max_backoff_s: retrying sooner only earns
    # another 429 and counts against the window.
    wait = max(asked, backoff) if asked is not None else backoff
    reason = _reason(exc, asked)
    capped = policy.max_retries is not None and retries >= policy.max_retries
    if capped or elapsed + wait > budget:
        why = (
            f"retry limit of {policy.max_retries} reached"
            if capped
            else f"the next wait ({human_seconds(wait)}) would exceed the "
            f"{'unreachable-Hub' if unreachable else 'retry'} budget of {human_seconds(budget)}"
        )
        attempts = retries + 1
        tried = f"{attempts} attempt{'s' if attempts != 1 else ''} in {human_seconds(elapsed)}"
        if unreachable:
            message = (
                f"Hub {reporter.endpoint} is unreachable: {what} of {repo_id} failed, {tried} "
                f"({short_error(_root(exc))}); {why}. Check the endpoint (groot_hf_endpoint) and this host's "
                "network"
            )
        else:
            message = f"Hub {reporter.endpoint} kept failing {what} of {repo_id}: {reason}; {tried}; {why}"
        reporter.emit("gave_up", message, what=what, repo_id=repo_id, elapsed_s=elapsed, attempts=attempts)
        error = HubUnreachableError if unreachable else HubUnavailableError
        raise error(message) from None
    reporter.emit(
        "retry",
        f"Hub {reporter.endpoint}: {what} of {repo_id} failed ({reason}); retry {retries + 1} in "
        f"{human_seconds(wait)} ({human_seconds(elapsed)} of the {human_seconds(budget)} budget used)",
        what=what,
        repo_id=repo_id,
        status=http_status(_root(exc)),
        unreachable=unreachable,
        wait_s=wait,
        elapsed_s=elapsed,
        budget_s=budget,
        retry=retries + 1,
    )
    return wait


def _is_repo_not_found(exc: BaseException) -> bool:
    from huggingface_hub.errors import RepositoryNotFoundError

    return isinstance(exc, RepositoryNotFoundError)


# Kept for callers of the earlier name.
_short = short_error


@contextlib.contextmanager
def hub_failures(repo_id: str, endpoint: str | None = None) -> Iterator[None]:
    """Turn whatever the client raised last (HTTP, I/O, validation) into one readable GrootOpsError."""
    where = f"Hub {endpoint}: " if endpoint else "Hub "
    try:
        yield
    except GrootOpsError:
        raise
    except (OSError, ValueError) as exc:
        raise GrootOpsError(f"{where}operation on {repo_id} failed: {short_error(exc)}") from None
    except Exception as exc:
        if not isinstance(exc, transport_errors()):
            raise
        raise GrootOpsError(f"{where}operation on {repo_id} failed: {short_error(exc)}") from None


def endpoint_of(endpoint: str | None) -> str:
    """The endpoint a client call goes to: the explicit one, else ``HF_ENDPOINT``, else huggingface.co."""
    return (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
