"""429 storms and unreachable Hubs against the test Hub, with the real huggingface_hub client.

The storms last longer than the old retry budget (5 retries over 31 s, ``Retry-After`` ignored), the
way huggingface.co's rate limits last a window rather than a number of requests.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from groot_ops.hub.download import download_dataset
from groot_ops.hub.retry import HubUnavailableError, HubUnreachableError

REPO = "unitreerobotics/G1_Fold_Towel"
OLD_BUDGET_S = 1 + 2 + 4 + 8 + 16


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_429_storm_longer_than_the_old_budget_is_outlasted_by_honouring_retry_after(
    hub, raw_dataset, tmp_path: Path
) -> None:
    sha = hub.seed(REPO, raw_dataset)
    hub.server.clear_requests()
    storm_s = OLD_BUDGET_S + 3
    hub.server.inject("GET", r"/revision/", status=429, for_s=storm_s, retry_after=12)
    progress = tmp_path / "progress.jsonl"
    started = time.monotonic()
    result = download_dataset(
        REPO, "main", str(tmp_path / "out"), endpoint=hub.url, progress_file=str(progress)
    )
    took = time.monotonic() - started
    assert result["sha"] == sha and result["changed"] is True
    assert storm_s <= took < storm_s + 20
    lookups = hub.server.recorded("GET", "/revision/")
    assert [r.status for r in lookups] == [429, 429, 429, 200]
    # The Hub asked for 12 s each time and got them: 3 requests in the storm, not 6 in 31 s.
    lines = [json.loads(line) for line in progress.read_text().splitlines()]
    assert [r["wait_s"] for r in lines if r["kind"] == "retry"] == [12, 12, 12]
    assert result["retries"] == [r["line"] for r in lines]
    assert (
        f"Hub {hub.url}: revision lookup of {REPO} failed (HTTP 429, the Hub asked to wait 12 s)"
        in (result["retries"][0])
    )


def test_a_storm_beyond_the_budget_fails_naming_the_hub_without_sleeping_into_it(
    hub, raw_dataset, tmp_path: Path
) -> None:
    hub.seed(REPO, raw_dataset)
    hub.server.inject("GET", r"/revision/", status=429, for_s=120, retry_after=2)
    started = time.monotonic()
    with pytest.raises(HubUnavailableError) as failed:
        download_dataset(REPO, "main", str(tmp_path / "out"), endpoint=hub.url, retry_budget_s=5)
    assert time.monotonic() - started < 8
    message = str(failed.value)
    assert message.startswith(f"Hub {hub.url} kept failing revision lookup of {REPO}: HTTP 429")
    assert "retry budget of 5 s" in message
    assert len(failed.value.retry_lines) == 3  # two waits of 2 s, then the line that gives up
    assert not (tmp_path / "out").exists()


def test_429s_on_file_downloads_are_waited_by_the_client_and_reported(
    hub, raw_dataset, tmp_path: Path
) -> None:
    # File GETs go through huggingface_hub's own http_backoff, which honours Retry-After itself; its
    # retries show up as lines all the same.
    hub.seed(REPO, raw_dataset)
    hub.server.inject("GET", r"/resolve/.*episode_000000\.parquet$", status=429, times=2, retry_after=1)
    result = download_dataset(REPO, "main", str(tmp_path / "out"), endpoint=hub.url)
    assert (tmp_path / "out" / "data/chunk-000/episode_000000.parquet").is_file()
    client = [line for line in result["retries"] if "client retry" in line]
    assert len(client) == 2 and all(f"Hub {hub.url}: snapshot download of {REPO}" in line for line in client)


def test_an_unreachable_hub_is_named_with_a_line_per_retry_within_its_budget(tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    progress = tmp_path / "progress.jsonl"
    started = time.monotonic()
    with pytest.raises(HubUnreachableError) as failed:
        download_dataset(
            REPO,
            "main",
            str(tmp_path / "out"),
            endpoint=endpoint,
            unreachable_budget_s=5,
            progress_file=str(progress),
        )
    assert time.monotonic() - started < 8
    assert str(failed.value).startswith(f"Hub {endpoint} is unreachable: revision lookup of {REPO} failed")
    kinds = [json.loads(line)["kind"] for line in progress.read_text().splitlines()]
    assert kinds.count("retry") >= 2 and kinds[-1] == "gave_up"


def test_a_hub_outage_mid_download_longer_than_the_clients_own_retries_is_waited_out(
    hub, tmp_path: Path
) -> None:
    # huggingface_hub retries each request ~23 s (1+2+4+8+8) on a refused connection, then raises
    # LocalEntryNotFoundError (from the ConnectError); a retry then finds the local dir half full and the
    # client returns it as it is. Both must read as "the Hub is unreachable", waited for, not a failure.
    src = tmp_path / "src"
    for episode in range(24):
        path = src / "data" / "chunk-000" / f"episode_{episode:06d}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(20_000))
    sha = hub.seed(REPO, src)
    # Slow file transfers, so that the outage falls in the middle of the download.
    hub.server.inject("GET", r"/resolve/", mode="delay", delay_s=0.3, for_s=600)
    outage_s = 27.0

    def outage() -> None:
        while not hub.server.recorded("GET", "/resolve/"):
            time.sleep(0.01)
        hub.server.go_down()
        time.sleep(outage_s)
        hub.server.come_back()

    watcher = threading.Thread(target=outage, daemon=True)
    watcher.start()
    started = time.monotonic()
    try:
        result = download_dataset(REPO, "main", str(tmp_path / "out"), endpoint=hub.url)
    finally:
        watcher.join()
    assert outage_s < time.monotonic() - started < outage_s + 40
    assert result["sha"] == sha
    for path in src.rglob("*.parquet"):
        assert (tmp_path / "out" / path.relative_to(src)).read_bytes() == path.read_bytes()
    # The client's own retries (refused connections), then ours around the whole snapshot, each a line.
    lines = result["retries"]
    assert any(
        "snapshot download" in line and "Connection refused; client retry" in line for line in lines
    ), lines
    assert any(
        "snapshot download" in line and "failed (" in line and "; retry 1 in" in line for line in lines
    ), lines
