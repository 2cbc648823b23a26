"""A real OOM kill moves the container cgroup's counter that the run loop reads as evidence.

In a container limited to 48 MiB, a process that keeps growing is killed by the kernel's OOM killer
(SIGKILL); ``memory.events`` read before and after, as ``groot_ops.train.oomkill`` reads it, says so.
Only coreutils run in the container (the minimal base image has no Python).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from groot_ops.train import oomkill

pytestmark = pytest.mark.docker
IMAGE = "groot-ops-base:bookworm"
SCRIPT = (
    "f=/sys/fs/cgroup/memory.events; [ -r $f ] || f=/sys/fs/cgroup/memory/memory.oom_control; "
    "cat $f > /out/before; "
    # tail keeps its whole input when it holds no newline: it grows until the OOM killer ends it.
    'head -c 400M /dev/zero | tail -c 400M > /dev/null; echo "tail exit $?" > /out/child; '
    "cat $f > /out/after"
)


def test_an_oom_kill_in_the_container_is_evidence(tmp_path: Path) -> None:
    built = subprocess.run(
        ["bash", "tests/images/build-base.sh"], capture_output=True, text=True, check=False
    )
    if built.returncode != 0:
        pytest.skip(f"no base image: {built.stderr.strip()}")
    proc = subprocess.run(
        ["docker", "run", "--rm", "--memory=48m", "--memory-swap=48m", "-v", f"{tmp_path}:/out", IMAGE,
         "sh", "-c", SCRIPT],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    # The child died of SIGKILL (128 + 9 from the shell's point of view, or 137 in the pipeline).
    assert "tail exit 137" in (tmp_path / "child").read_text()
    before = oomkill.counters(tmp_path / "no-vmstat", (tmp_path / "before",))
    after = oomkill.counters(tmp_path / "no-vmstat", (tmp_path / "after",))
    assert "cgroup" in before, (tmp_path / "before").read_text()
    evidence = oomkill.evidence(before, after)
    assert evidence is not None and evidence.startswith("OOM kill recorded: cgroup oom_kill")
