"""OOM-kill evidence from the kernel's and the cgroup's counters (the files as Linux writes them)."""

from __future__ import annotations

from pathlib import Path

from groot_ops.train import oomkill

VMSTAT = "nr_free_pages 123\npgfault 99\noom_kill {n}\nnuma_hit 5\n"
MEMORY_EVENTS = "low 0\nhigh 0\nmax 12\noom 3\noom_kill {n}\noom_group_kill 0\n"
OOM_CONTROL_V1 = "oom_kill_disable 0\nunder_oom 0\noom_kill {n}\n"


def test_counters_read_kernel_and_cgroup_v2(tmp_path: Path) -> None:
    kernel, events = tmp_path / "vmstat", tmp_path / "memory.events"
    kernel.write_text(VMSTAT.format(n=7))
    events.write_text(MEMORY_EVENTS.format(n=2))
    assert oomkill.counters(kernel, (events,)) == {"kernel": 7, "cgroup": 2}


def test_cgroup_v1_and_missing_files(tmp_path: Path) -> None:
    control = tmp_path / "memory.oom_control"
    control.write_text(OOM_CONTROL_V1.format(n=1))
    assert oomkill.counters(tmp_path / "absent", (tmp_path / "absent2", control)) == {"cgroup": 1}
    assert oomkill.counters(tmp_path / "absent", ()) == {}


def test_evidence_only_when_a_counter_moved() -> None:
    assert oomkill.evidence({"kernel": 7, "cgroup": 2}, {"kernel": 7, "cgroup": 2}) is None
    assert oomkill.evidence({}, {"cgroup": 1}) is None  # no reading before: no claim
    assert oomkill.evidence({"kernel": 7, "cgroup": 2}, {"kernel": 7, "cgroup": 3}) == (
        "OOM kill recorded: cgroup oom_kill 2 -> 3"
    )


def test_this_host_exposes_at_least_the_kernel_counter() -> None:
    assert "kernel" in oomkill.counters()
