"""groot_ops.deploy_watch: ready on the server's own ready line, failed the moment the container crashes."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

import pytest

from groot_ops.deploy import server_command
from groot_ops.deploy_watch import ServerNotReady, last_logs, merged_log_lines, parse_time, watch_server

STARTED = "2026-12-01T10:00:00.123456789Z"


class FakeDocker:
    """A container whose inspect result changes along a scripted timeline (one entry per poll)."""

    def __init__(self, states: list[dict], logs: dict[str, tuple[str, str]] | None = None) -> None:
        self.states, self.logs, self.polls, self.calls = states, logs or {}, 0, []

    def __call__(self, argv: Sequence[str]) -> tuple[int, str, str]:
        argv = list(argv)
        self.calls.append(argv)
        if argv[1] == "inspect":
            state = self.states[min(self.polls, len(self.states) - 1)]
            self.polls += 1
            if state is None:
                return 1, "", "Error: No such container: srv"
            info = {
                "State": {"Status": "running", "Running": True, "Restarting": False, "ExitCode": 0,
                          "StartedAt": STARTED, **state.get("State", {})},
                "RestartCount": state.get("restarts", 0),
                "Config": {"Cmd": server_command("a" * 40, {})},
            }  # fmt: skip
            return 0, json.dumps([info]), ""
        key = "since" if "--since" in argv else "tail"
        out, err = self.logs.get(key, ("", ""))
        return 0, out, err


def stamp(seconds: float, text: str) -> str:
    when = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=seconds)
    return f"{when.strftime('%Y-%m-%dT%H:%M:%S.%f')}123Z {text}\n"


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def watch(docker: FakeDocker, clock: Clock, **kwargs):
    kwargs.setdefault("expect_start", True)
    kwargs.setdefault("timeout_s", 600)
    now = kwargs.pop("now", lambda: dt.datetime(2026, 12, 1, 10, 0, 5, tzinfo=dt.timezone.utc))
    return watch_server("srv", run=docker, clock=clock, sleep=clock.sleep, now=now, **kwargs)


def test_ready_when_the_server_prints_its_ready_line() -> None:
    loading = stamp(0.5, "Loading policy")
    ready = loading + stamp(3, "Server is ready and listening on tcp://0.0.0.0:5555")
    docker = FakeDocker([{}], {"since": (loading, "")})
    clock = Clock()
    # Ready after four polls: the log gains the line at the third one.
    calls = {"n": 0}
    original = docker.__call__

    def run(argv):
        if argv[1] == "logs":
            calls["n"] += 1
            if calls["n"] >= 3:
                return 0, ready, ""
        return original(argv)

    result = watch_server("srv", expect_start=True, timeout_s=600, run=run, clock=clock, sleep=clock.sleep)
    assert result["ready"] is True and result["reason"] == "ready line in the log"
    assert result["seconds"] == pytest.approx(1.0)
    assert result["logs"][-1].startswith("Server is ready")
    # Only this start's log counts: --since the container's StartedAt.
    assert ["docker", "logs", "--timestamps", "--since", STARTED, "srv"] in docker.calls


@pytest.mark.parametrize(
    ("states", "words"),
    [
        ([{"State": {"Status": "exited", "Running": False, "ExitCode": 1}}], "exited with code 1"),
        ([{"State": {"Status": "restarting", "Restarting": True, "ExitCode": 1}}], "crash-looping"),
        ([{}, {}, {"restarts": 1}], "restarted 1 time(s)"),
        ([{"State": {"Status": "exited", "Running": False, "ExitCode": 9, "OOMKilled": True}}], "OOM-killed"),
    ],
)  # fmt: skip
def test_a_crash_fails_at_once_with_the_last_log_lines(states, words) -> None:
    traceback = stamp(1, "Traceback (most recent call last):") + stamp(
        1.1, "FileNotFoundError: statistics.json"
    )
    docker = FakeDocker(states, {"tail": ("", traceback), "since": ("", "")})
    clock = Clock()
    with pytest.raises(ServerNotReady) as failed:
        watch(docker, clock, restart_count=0)
    assert words in str(failed.value)
    assert clock.t <= 1.0  # no start-up timeout spent
    assert failed.value.result["logs"] == [
        "Traceback (most recent call last):",
        "FileNotFoundError: statistics.json",
    ]
    assert ["docker", "logs", "--timestamps", "--tail", "20", "srv"] in docker.calls


def test_a_restart_before_the_first_look_counts_when_the_start_count_is_given() -> None:
    docker = FakeDocker([{"restarts": 2}])
    with pytest.raises(ServerNotReady, match="restarted 2 time"):
        watch(docker, Clock(), restart_count=0)


def test_not_ready_within_the_timeout_fails_naming_the_ready_line() -> None:
    docker = FakeDocker([{}], {"since": (stamp(1, "still loading"), "")})
    clock = Clock()
    with pytest.raises(ServerNotReady, match="not ready after 10 s") as failed:
        watch(docker, clock, timeout_s=10)
    assert "Server is ready and listening" in str(failed.value)
    assert 10 <= clock.t <= 11


def test_a_container_running_longer_than_the_timeout_is_ready_when_the_deploy_did_not_start_it() -> None:
    docker = FakeDocker([{}], {"since": ("", "")})  # its start-up log is gone
    later = lambda: dt.datetime(2026, 12, 1, 11, 0, tzinfo=dt.timezone.utc)  # noqa: E731
    result = watch(docker, Clock(), expect_start=False, timeout_s=600, now=later)
    assert result["ready"] is True and "without a restart" in result["reason"]
    # The same container just started by the deploy must print its ready line.
    with pytest.raises(ServerNotReady):
        watch(FakeDocker([{}], {"since": ("", "")}), Clock(), expect_start=True, timeout_s=5, now=later)


def test_a_missing_container_fails() -> None:
    with pytest.raises(ServerNotReady, match="does not exist"):
        watch(FakeDocker([None]), Clock())
    assert last_logs("srv", run=FakeDocker([None]))["logs"] == []


def test_log_streams_are_merged_in_time_order_and_timestamps_parsed() -> None:
    out = stamp(1, "one") + stamp(3, "three")
    err = stamp(2, "two")
    assert merged_log_lines(out, err) == ["one", "two", "three"]
    assert parse_time("0001-01-01T00:00:00Z") is None
    assert parse_time(STARTED) == dt.datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=dt.timezone.utc)


def test_a_restarted_server_does_not_quote_the_running_instance_s_exit_code_0() -> None:
    # After Docker restarted it, State.ExitCode is the new, running instance's 0: not the crash's code.
    docker = FakeDocker([{"restarts": 1}])
    with pytest.raises(ServerNotReady) as failed:
        watch(docker, Clock(), restart_count=0)
    assert "restarted 1 time(s)" in str(failed.value) and "exit code 0" not in str(failed.value)
