"""Retry policy: time budgets, the Hub's Retry-After, unreachable endpoints named, a line per retry."""

from __future__ import annotations

import json
import logging
import socket
import time
from email.utils import formatdate
from pathlib import Path

import pytest

from groot_ops.errors import GrootOpsError
from groot_ops.hub.retry import (
    HubAuthError,
    HubUnavailableError,
    HubUnreachableError,
    RetryPolicy,
    RetryReporter,
    human_seconds,
    is_transient,
    is_unreachable,
    retry_after_s,
    with_retries,
)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _error(status: int, headers: dict[str, str] | None = None):
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError

    request = httpx2.Request("GET", "http://127.0.0.1/x")
    return HfHubHTTPError(
        f"{status}", response=httpx2.Response(status, request=request, headers=headers or {})
    )


class FakeClock:
    """Time that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _failing(errors: list[BaseException], result: str = "ok"):
    calls: list[int] = []

    def func() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return result

    return func, calls


def test_status_classes_and_auth_fails_at_once() -> None:
    assert is_transient(_error(429)) and is_transient(_error(503))
    assert not is_transient(_error(404)) and not is_transient(ValueError("x"))
    with pytest.raises(HubAuthError, match=r"upload on me/m \(HTTP 403\)"):
        with_retries("upload", "me/m", lambda: (_ for _ in ()).throw(_error(403)))
    with pytest.raises(GrootOpsError, match="mine"):
        with_retries("upload", "me/m", lambda: (_ for _ in ()).throw(GrootOpsError("mine")))


def test_retry_after_seconds_date_and_ratelimit_reset() -> None:
    assert retry_after_s(_error(429, {"Retry-After": "120"})) == 120
    dated = retry_after_s(_error(503, {"Retry-After": formatdate(1000.0 + 30, usegmt=True)}), now=1000.0)
    assert dated == pytest.approx(30, abs=1)
    # huggingface.co's IETF draft header: 0 requests left in this window, which resets in 55 s.
    assert retry_after_s(_error(429, {"RateLimit": '"api";r=0;t=55'})) == 55
    assert retry_after_s(_error(429, {"RateLimit": '"api";r=12;t=55'})) is None
    assert retry_after_s(_error(500)) is None


def test_a_429_storm_is_outlasted_by_waiting_what_the_hub_asks() -> None:
    # Issue 16 item 6: the old loop retried 5 times over 31 s and ignored Retry-After; a Hub asking
    # for 60 s four times in a row (4 minutes of 429s) killed the download.
    clock = FakeClock()
    func, calls = _failing([_error(429, {"Retry-After": "60"}) for _ in range(4)])
    reporter = RetryReporter(endpoint="https://hub.example")
    result = with_retries(
        "revision lookup",
        "org/ds",
        func,
        policy=RetryPolicy(),
        reporter=reporter,
        sleep=clock.sleep,
        clock=clock,
    )
    assert result == "ok" and len(calls) == 5
    assert clock.sleeps == [60, 60, 60, 60]
    assert len(reporter.lines) == 4
    assert reporter.lines[0] == (
        "Hub https://hub.example: revision lookup of org/ds failed (HTTP 429, the Hub asked to wait 1 min); "
        "retry 1 in 1 min (0 s of the 15 min budget used)"
    )


def test_backoff_doubles_up_to_its_cap_without_retry_after() -> None:
    clock = FakeClock()
    func, _ = _failing([_error(503) for _ in range(9)])
    policy = RetryPolicy(backoff_s=1.0, max_backoff_s=60.0)
    with_retries("tree listing", "org/ds", func, policy=policy, sleep=clock.sleep, clock=clock)
    assert clock.sleeps == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_gives_up_when_the_next_wait_would_pass_the_budget() -> None:
    clock = FakeClock()
    func, calls = _failing([_error(429, {"Retry-After": "300"}) for _ in range(10)])
    reporter = RetryReporter(endpoint="https://hub.example")
    policy = RetryPolicy(budget_s=700)
    with pytest.raises(HubUnavailableError) as failed:
        with_retries("commit", "me/m", func, policy=policy, reporter=reporter, sleep=clock.sleep, clock=clock)
    # Two waits of 300 s fit; a third would end at 900 s > 700 s: fail now, not after sleeping.
    assert clock.sleeps == [300, 300] and len(calls) == 3
    message = str(failed.value)
    assert message.startswith("Hub https://hub.example kept failing commit of me/m: HTTP 429")
    assert "3 attempts in 10 min" in message and "would exceed the retry budget of 11 min 40 s" in message
    assert reporter.lines[-1] == message


def test_max_retries_still_caps_when_given() -> None:
    clock = FakeClock()
    func, calls = _failing([_error(502) for _ in range(5)])
    with pytest.raises(HubUnavailableError, match="retry limit of 1 reached"):
        with_retries(
            "commit", "me/m", func, policy=RetryPolicy(max_retries=1), sleep=clock.sleep, clock=clock
        )
    assert len(calls) == 2


def test_an_unreachable_endpoint_is_named_within_its_own_budget(tmp_path: Path) -> None:
    # Issue 18 item 1: 3 min 33 s of silence, then "still failing after 5 retries: Temporary failure
    # in name resolution", without the endpoint. Now: a line per retry, the endpoint, ~the budget.
    from huggingface_hub import HfApi

    endpoint = f"http://127.0.0.1:{_closed_port()}"
    progress = tmp_path / "progress.jsonl"
    reporter = RetryReporter(endpoint=endpoint, progress_file=str(progress))
    api = HfApi(endpoint=endpoint)
    policy = RetryPolicy(unreachable_budget_s=0.5, backoff_s=0.05)
    started = time.monotonic()
    with pytest.raises(HubUnreachableError) as failed:
        with_retries(
            "revision lookup", "org/ds", lambda: api.dataset_info("org/ds"), policy=policy, reporter=reporter
        )
    assert time.monotonic() - started < 5
    message = str(failed.value)
    assert message.startswith(f"Hub {endpoint} is unreachable: revision lookup of org/ds failed")
    assert "unreachable-Hub budget of 0.5 s" in message and "groot_hf_endpoint" in message
    records = [json.loads(line) for line in progress.read_text().splitlines()]
    assert [r["kind"] for r in records][-1] == "gave_up"
    retries = [r for r in records if r["kind"] == "retry"]
    assert len(retries) >= 2 and all(r["unreachable"] and r["endpoint"] == endpoint for r in retries)
    assert [r["line"] for r in records] == reporter.lines


def test_unreachable_and_rate_limited_have_separate_budgets() -> None:
    clock = FakeClock()
    refused = ConnectionRefusedError(111, "Connection refused")
    assert is_unreachable(refused) and not is_unreachable(_error(429))
    func, _ = _failing(
        [refused, refused, _error(429, {"Retry-After": "200"}), _error(429, {"Retry-After": "200"})]
    )
    policy = RetryPolicy(unreachable_budget_s=10, budget_s=900)
    assert (
        with_retries("snapshot download", "org/ds", func, policy=policy, sleep=clock.sleep, clock=clock)
        == "ok"
    )
    assert clock.sleeps == [1, 2, 200, 200]


def test_client_retries_inside_one_call_are_reported_too() -> None:
    # huggingface_hub's own http_backoff retries single requests and logs each wait.
    reporter = RetryReporter(endpoint="http://hub")
    client_log = logging.getLogger("huggingface_hub.utils._http")

    def call() -> str:
        client_log.warning("HTTP Error 429 thrown while requesting GET http://hub/api/x")
        client_log.warning("Rate limited. Waiting 31.0s before retry [Retry 1/5].")
        return "ok"

    assert with_retries("tree listing", "org/ds", call, reporter=reporter) == "ok"
    assert reporter.lines == [
        "Hub http://hub: tree listing of org/ds: HTTP Error 429; client retry 1/5 in 31 s",
    ]
    client_log.warning("Retrying in 1s [Retry 1/5].")  # outside an operation: not ours to report
    assert len(reporter.lines) == 1


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.5, "0.5 s"), (3.0, "3 s"), (45, "45 s"), (124, "2 min 4 s"), (900, "15 min"), (3780, "1 h 3 min")],
)
def test_human_seconds(seconds: float, text: str) -> None:
    assert human_seconds(seconds) == text


def test_publish_to_a_closed_port_is_reported_naming_the_endpoint(tmp_path: Path) -> None:
    from groot_ops.hub.upload import publish_folder

    (tmp_path / "f.txt").write_text("x")
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(HubUnreachableError, match=rf"Hub {endpoint} is unreachable: repo lookup of me/m"):
        publish_folder(
            str(tmp_path), "me/m", token="hf_x", endpoint=endpoint, unreachable_budget_s=0.2, backoff_s=0.01
        )


def test_a_client_wait_past_the_budget_fails_the_operation_instead_of_sleeping() -> None:
    # huggingface_hub waits Retry-After + 1 up to 5 times per request on its own; a Hub asking for 300 s
    # would hold one request for 25 minutes. The budget applies to those waits too.
    reporter = RetryReporter(endpoint="http://hub")
    client_log = logging.getLogger("huggingface_hub.utils._http")
    slept: list[float] = []

    def call() -> str:
        client_log.warning("HTTP Error 429 thrown while requesting GET http://hub/x")
        client_log.warning("Rate limited. Waiting 301.0s before retry [Retry 1/5].")
        slept.append(301)  # the client would sleep here
        return "ok"

    with pytest.raises(
        HubUnavailableError, match=r"client's next wait \(5 min 1 s\) would exceed the retry budget of 1 min"
    ):
        with_retries("snapshot download", "org/ds", call, policy=RetryPolicy(budget_s=60), reporter=reporter)
    assert slept == [] and reporter.lines[-1].startswith(
        "Hub http://hub kept failing snapshot download of org/ds"
    )


def test_the_clients_wrapped_connection_errors_are_unreachable() -> None:
    # hf_hub_download raises LocalEntryNotFoundError *from* the ConnectError when the Hub went away.
    import httpx2
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        try:
            raise httpx2.ConnectError("[Errno 111] Connection refused")
        except httpx2.ConnectError as inner:
            raise LocalEntryNotFoundError(
                "An error happened while trying to locate the file on the Hub"
            ) from inner
    except LocalEntryNotFoundError as wrapped:
        assert is_transient(wrapped) and is_unreachable(wrapped)
    assert not is_transient(LocalEntryNotFoundError("offline mode"))
    clock = FakeClock()
    reporter = RetryReporter(endpoint="http://hub")
    func, _ = _failing([LocalEntryNotFoundError("x")])
    with pytest.raises(LocalEntryNotFoundError):
        with_retries("snapshot download", "o/d", func, reporter=reporter, sleep=clock.sleep, clock=clock)


def test_the_same_client_retry_from_parallel_file_downloads_is_one_line(tmp_path: Path) -> None:
    progress = tmp_path / "p.jsonl"
    reporter = RetryReporter(endpoint="http://hub", progress_file=str(progress))
    for _ in range(8):  # 8 download workers, each retrying its own file
        reporter.emit(
            "client_retry", "Hub http://hub: snapshot download of o/d: refused; client retry 1/5 in 1 s"
        )
    reporter.emit(
        "client_retry", "Hub http://hub: snapshot download of o/d: refused; client retry 2/5 in 2 s"
    )
    reporter.emit("retry", "Hub http://hub: snapshot download of o/d failed (x); retry 1 in 1 s")
    reporter.emit("retry", "Hub http://hub: snapshot download of o/d failed (x); retry 1 in 1 s")
    assert len(reporter.lines) == 4 and len(progress.read_text().splitlines()) == 4
