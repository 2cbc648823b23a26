"""Progress files of long Hub jobs: what a poller reads while the job runs, and the job that writes them."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

from groot_ops.hub.downloads import download_datasets
from groot_ops.hub.progress import append_record, read_progress, start_job, wait_progress


def test_a_poller_reads_only_this_runs_lines_and_each_line_once(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    start_job(path, "old", "earlier run")
    append_record(path, "done", "earlier run finished", result={"changed": True})
    # A poll that comes before the new job has started must not take the earlier run's result for its own.
    early = read_progress(path, job="new")
    assert early["started"] is False and early["done"] is False and early["lines"] == []
    start_job(path, "new", "downloading 2 dataset(s)")
    append_record(path, "retry", "Hub h: revision lookup of a/b failed (HTTP 429); retry 1 in 12 s")
    first = read_progress(path, job="new")
    assert first["lines_total"] == 2 and first["done"] is False
    assert first["msg"] == first["last"] == "Hub h: revision lookup of a/b failed (HTTP 429); retry 1 in 12 s"
    append_record(path, "done", "2 dataset(s) in place", result={"changed": False, "results": []})
    second = read_progress(path, job="new", since=first["lines_total"])
    assert second["lines"] == ["2 dataset(s) in place"]
    assert second["done"] is True and second["result"] == {"changed": False, "results": []}


def test_the_async_result_file_ends_the_poll_even_without_a_done_line(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    start_job(path, "j", "downloading")
    results = tmp_path / "job"
    results.write_text(json.dumps({"started": 1, "finished": 0, "ansible_job_id": "1.2"}))
    assert read_progress(path, job="j", results_file=str(results))["done"] is False
    # The module died (no groot_ops on the host, a crash): the async wrapper still writes its result.
    results.write_text(json.dumps({"finished": 1, "failed": True, "msg": "No module named groot_ops"}))
    done = read_progress(path, job="j", results_file=str(results))
    assert done["done"] is True and done["result"] == {"failed": True, "msg": "No module named groot_ops"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_hub_stops_the_job_after_the_first_dataset(tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    items = [
        {"name": n, "repo_id": f"org/{n}", "revision": "main", "raw_dir": str(tmp_path / n)}
        for n in ("a", "b")
    ]
    progress = tmp_path / "p.jsonl"
    result = download_datasets(
        items,
        endpoint=endpoint,
        unreachable_budget_s=0.3,
        backoff_s=0.05,
        progress_file=str(progress),
        job="t",
    )
    first, second = result["results"]
    assert first["failed"] and first["msg"].startswith(f"Hub {endpoint} is unreachable") and first["retries"]
    assert second["failed"] and second["msg"] == f"not attempted: the Hub {endpoint} is unreachable (see a)"
    assert result["msg"].startswith(f"Download failed for a (org/a@main): Hub {endpoint} is unreachable")
    seen = read_progress(progress, job="t")
    assert seen["done"] and seen["lines"][0] == f"downloading 2 dataset(s) from {endpoint}"
    assert any(line.startswith(f"a: downloading org/a@main from {endpoint}") for line in seen["lines"])


def test_without_since_each_poll_returns_only_what_no_earlier_poll_returned(tmp_path: Path) -> None:
    # An until loop runs its task with the arguments templated once: the poller keeps its own cursor.
    path = tmp_path / "p.jsonl"
    start_job(path, "run-1", "downloading")
    assert read_progress(path, job="run-1")["lines"] == ["downloading"]
    append_record(path, "retry", "retry 1")
    append_record(path, "retry", "retry 2")
    assert read_progress(path, job="run-1")["lines"] == ["retry 1", "retry 2"]
    assert read_progress(path, job="run-1")["lines"] == []
    # A new run starts from its own first line, whatever the cursor of the previous one said.
    start_job(path, "run-2", "downloading again")
    assert read_progress(path, job="run-2")["lines"] == ["downloading again"]


def test_a_waiting_poll_returns_when_the_job_ends_not_after_its_wait(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    start_job(path, "j", "downloading 2 dataset(s)")
    assert wait_progress(path, job="j", wait_s=5)["lines"] == ["downloading 2 dataset(s)"]
    # Nothing new: the poll waits its whole wait, then reports nothing new.
    began = time.monotonic()
    idle = wait_progress(path, job="j", wait_s=0.3)
    assert idle["lines"] == [] and idle["done"] is False and time.monotonic() - began >= 0.3

    def finish() -> None:
        time.sleep(0.3)
        append_record(path, "done", "2 dataset(s) in place", result={"changed": False, "results": []})

    writer = threading.Thread(target=finish)
    began = time.monotonic()
    writer.start()
    done = wait_progress(path, job="j", wait_s=30)
    writer.join()
    assert done["done"] is True and done["lines"] == ["2 dataset(s) in place"]
    assert time.monotonic() - began < 10
    # The cursor moved: a further poll returns no line twice.
    assert wait_progress(path, job="j", wait_s=0)["lines"] == []
