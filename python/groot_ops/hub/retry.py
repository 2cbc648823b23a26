"""Bounded exponential backoff around Hub calls, with permanent auth failures surfaced at once.

The client already retries single requests; this wraps whole operations (a snapshot, a commit)
so that a burst of 429/5xx or a dropped connection costs a retry instead of a pipeline run.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from groot_ops.errors import GrootOpsError

T = TypeVar("T")
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
log = logging.getLogger(__name__)


class HubAuthError(GrootOpsError):
    """The Hub refused the credentials: retrying cannot help."""


class HubUnavailableError(GrootOpsError):
    """The Hub kept failing with transient errors after every retry."""


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


def is_transient(exc: BaseException) -> bool:
    status = http_status(exc)
    if status is not None:
        return status in TRANSIENT_STATUS
    return isinstance(exc, transport_errors())


def with_retries(
    what: str,
    repo_id: str,
    func: Callable[[], T],
    *,
    max_retries: int = 5,
    backoff_s: float = 1.0,
    max_backoff_s: float = 30.0,
) -> T:
    """Run ``func``; retry transient failures ``max_retries`` times, doubling the wait each time.

    ``what`` and ``repo_id`` name the operation in errors; the token never appears in them
    because only the client's status and message are quoted.
    """
    attempt = 0
    while True:
        try:
            return func()
        except GrootOpsError:
            raise
        except Exception as exc:
            status = http_status(exc)
            if status in (401, 403) and not _is_repo_not_found(exc):
                raise HubAuthError(
                    f"Hub refused the credentials for {what} on {repo_id} (HTTP {status}): "
                    "check that the vault token exists and has write access to this repo"
                ) from None
            if not is_transient(exc) or attempt >= max_retries:
                if is_transient(exc):
                    raise HubUnavailableError(
                        f"{what} on {repo_id} still failing after {attempt} retries: {_short(exc)}"
                    ) from None
                raise
            delay = min(max_backoff_s, backoff_s * (2**attempt))
            log.warning(
                "%s on %s: %s; retry %d/%d in %.1fs",
                what,
                repo_id,
                _short(exc),
                attempt + 1,
                max_retries,
                delay,
            )
            time.sleep(delay)
            attempt += 1


def _is_repo_not_found(exc: BaseException) -> bool:
    from huggingface_hub.errors import RepositoryNotFoundError

    return isinstance(exc, RepositoryNotFoundError)


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__


@contextlib.contextmanager
def hub_failures(repo_id: str) -> Iterator[None]:
    """Turn whatever the client raised last (HTTP, I/O, validation) into one readable GrootOpsError."""
    try:
        yield
    except GrootOpsError:
        raise
    except (OSError, ValueError) as exc:
        raise GrootOpsError(f"Hub operation on {repo_id} failed: {_short(exc)}") from None
    except Exception as exc:
        if not isinstance(exc, transport_errors()):
            raise
        raise GrootOpsError(f"Hub operation on {repo_id} failed: {_short(exc)}") from None
