"""Watch the policy server's container start: ready when its log says so, failed the moment it crashes.

A probe over ZeroMQ cannot tell a server that is still loading a 9 GB model from one that crashed and
is being restarted by Docker: both just do not answer, and waiting for the probe's start-up timeout
cost two minutes per broken model. The container's state can tell: an exit, a restart or an OOM kill
is visible in ``docker inspect`` as it happens, and the server prints ``Server is ready and listening``
(upstream ``gr00t/policy/server_client.py`` ``PolicyServer.run``) once it is. This runs on the inference
host, next to the engine, polling both.

Standard library only, plus ``groot_ops.deploy`` (standard library only too) for reading the container:
``groot_server_watch`` ships both to the inference host as ``module_utils/groot_ops_deploy{,_watch}.py``.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from typing import Any

try:
    from groot_ops.deploy import DeployStateError, Runner, container_view, inspect_container, run_docker
except ImportError:  # shipped as Ansible module_utils: groot_ops is not installed on the inference host
    from ansible.module_utils.groot_ops_deploy import (  # type: ignore[no-redef]
        DeployStateError,
        Runner,
        container_view,
        inspect_container,
        run_docker,
    )

READY_PATTERN = "Server is ready and listening"


class ServerNotReady(DeployStateError):
    """The server crashed or did not get ready; ``result`` holds the container's state and last logs."""

    def __init__(self, message: str, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.result = result


def parse_time(value: str | None) -> dt.datetime | None:
    """Docker's RFC 3339 timestamps (nanoseconds, ``Z``); None for the zero time or garbage."""
    if not value or value.startswith("0001-"):
        return None
    # Python before 3.11 takes neither nanoseconds nor "Z": keep microseconds, spell the zone out.
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip()).replace("Z", "+00:00")
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def merged_log_lines(stdout: str, stderr: str) -> list[str]:
    """``docker logs --timestamps`` prints the two streams apart: put them back in time order."""
    stamped = []
    for stream in (stdout, stderr):
        for line in stream.splitlines():
            stamp, _, text = line.partition(" ")
            stamped.append((parse_time(stamp) or dt.datetime.min.replace(tzinfo=dt.timezone.utc), text))
    stamped.sort(key=lambda item: item[0])
    return [text for _, text in stamped]


def container_logs(
    name: str,
    *,
    since: str | None = None,
    tail: int | None = None,
    docker: str = "docker",
    run: Runner = run_docker,
) -> list[str]:
    """``docker logs`` of ``name``, both streams in time order (a failure is one line saying so)."""
    argv = [docker, "logs", "--timestamps"]
    if since:
        argv += ["--since", since]
    if tail is not None:
        argv += ["--tail", str(tail)]
    rc, out, err = run([*argv, name])
    if rc != 0:
        return [f"(docker logs failed: {err.strip()})"]
    return merged_log_lines(out, err)


def _crash(facts: dict[str, Any], baseline: int) -> str | None:
    """Why the container counts as crashed, or None."""
    exit_code = facts["exit_code"]
    oom = " (OOM-killed)" if facts["oom_killed"] else ""
    if facts["restarting"]:
        return f"is crash-looping: exited with code {exit_code}{oom}, Docker is restarting it"
    if facts["restart_count"] > baseline:
        restarts = facts["restart_count"] - baseline
        # Once Docker has restarted it, the running instance reports exit code 0: quote only a real one.
        code = f" (last exit code {exit_code}{oom})" if exit_code or oom else ""
        return f"crashed and was restarted {restarts} time(s){code}"
    if facts["status"] in ("exited", "dead"):
        return f"exited with code {exit_code}{oom}"
    return None


def watch_server(
    name: str,
    *,
    expect_start: bool,
    timeout_s: float = 600.0,
    ready_pattern: str = READY_PATTERN,
    restart_count: int | None = None,
    log_lines: int = 20,
    poll_s: float = 0.5,
    docker: str = "docker",
    run: Runner = run_docker,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc),
) -> dict[str, Any]:
    """Wait until the server in container ``name`` is ready; raise ServerNotReady at once when it crashes.

    ``expect_start``: the deploy just (re)created or restarted it, so only a ready line since its start
    counts. Otherwise a container that kept running for ``timeout_s`` without a restart counts as ready
    too (its start-up log may be gone). ``restart_count`` is the count when it was started (default: the
    first look), any restart beyond it is a crash.

    Returns ``ok, ready, reason, seconds, container, logs`` (the last ``log_lines`` lines, both streams).
    """
    started = clock()
    baseline = restart_count

    def logs(**kwargs: Any) -> list[str]:
        return container_logs(name, docker=docker, run=run, **kwargs)

    while True:
        info = inspect_container(name, docker=docker, run=run)
        if info is None:
            raise ServerNotReady(
                f"container {name} does not exist", _result(False, "missing", started, clock)
            )
        facts = container_view(info)
        if baseline is None:
            baseline = facts["restart_count"]
        crash = _crash(facts, baseline)
        if crash is not None:
            logs = logs(tail=log_lines)
            result = _result(False, crash, started, clock, facts, logs)
            raise ServerNotReady(
                f"{name} {crash} (seen {result['seconds']:.1f} s into the start-up wait)", result
            )
        if facts["running"]:
            since = facts["started_at"]
            lines = logs(since=since)
            if ready_pattern and any(ready_pattern in line for line in lines):
                return _result(True, "ready line in the log", started, clock, facts, lines[-log_lines:])
            began = parse_time(since)
            uptime = (now() - began).total_seconds() if began else 0.0
            if not expect_start and uptime >= timeout_s:
                reason = f"running for {uptime:.0f} s without a restart"
                return _result(True, reason, started, clock, facts, lines[-log_lines:])
        if clock() - started >= timeout_s:
            logs = logs(tail=log_lines)
            reason = f"not ready after {timeout_s:.0f} s (no {ready_pattern!r} in its log)"
            raise ServerNotReady(f"{name} {reason}", _result(False, reason, started, clock, facts, logs))
        sleep(poll_s)


def last_logs(
    name: str, *, log_lines: int = 20, docker: str = "docker", run: Runner = run_docker
) -> dict[str, Any]:
    """The container's state and its last log lines, without waiting (for failure messages)."""
    info = inspect_container(name, docker=docker, run=run)
    facts = container_view(info)
    return {
        "ok": facts["running"],
        "ready": False,
        "reason": facts["status"],
        "container": facts,
        "logs": container_logs(name, tail=log_lines, docker=docker, run=run) if info else [],
    }


def _result(
    ready: bool,
    reason: str,
    started: float,
    clock: Callable[[], float],
    facts: dict[str, Any] | None = None,
    logs: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "ok": ready,
        "ready": ready,
        "reason": reason,
        "seconds": round(clock() - started, 3),
        "container": facts,
        "logs": logs or [],
    }
