"""The supervisor with real torchrun and the Isaac-GR00T stand-in on CPU."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
from pathlib import Path

import pytest

from groot_ops.train import checkpoints
from groot_ops.train import control as supervisor
from tests.integration.train.conftest import Runs, trainer_children

pytestmark = pytest.mark.timeout(420)


def final_state(output_dir: str) -> dict:
    latest = checkpoints.latest_complete(output_dir)
    assert latest is not None
    return json.loads((latest / "trainer_state.json").read_text())


def final_loss(output_dir: str) -> float:
    return final_state(output_dir)["log_history"][-1]["loss"]


def test_launch_status_advances_and_finishes_then_noop(runs: Runs) -> None:
    spec = runs.spec(
        "lab-a",
        # Save intervals (10 steps) must outlast one watchdog call (settle wait + policy): real ones are
        # minutes long; here steps are slowed and the settle wait shortened so that each save is guarded.
        env={"GROOT_STANDIN_STEP_SLEEP_S": "0.15"},
        disk_guard={
            "watch_path": str(runs.workspace),
            "act_below_percent": 0.0,
            "stop_at_percent": 0.0,
            "save_settle_seconds": 0.2,
        },
        checkpoint_bytes=1024,
        groot_ops_commit="c" * 40,
        groot_ops_dirty=False,
    )
    planned = runs.start(spec, check=True)
    assert planned["action"] == "launch" and planned["changed"]
    assert not Path(spec["runs_root"], "lab-a").exists()  # check mode wrote nothing
    assert "--num_gpus 1" in planned["diff"]["after"]

    launched = runs.start(spec)
    assert launched["action"] == "launched" and launched["changed"]
    lock = json.loads(Path(spec["runs_root"], "active.json").read_text())
    assert lock["recipe"] == "lab-a" and lock["pid"] == launched["pid"]

    seen_steps: list[int] = []
    states: set[str] = set()

    def progress(s: dict) -> bool:
        states.add(s["state"])
        if s["state"] == "running":
            seen_steps.append(s["step"])
        return s["state"] == "finished" or s["state"].startswith("failed:")

    done = runs.wait(spec, progress)
    assert done["state"] == "finished", done
    assert done["step"] == done["max_steps"] == 40
    assert len(set(seen_steps)) >= 2 and seen_steps == sorted(seen_steps)  # updated while running
    assert "running" in states
    assert done["loss"] is not None and done["learning_rate"] is not None
    assert done["last_checkpoint_step"] == 40
    run_dir = Path(spec["runs_root"], "lab-a")
    assert (run_dir / "exit_code").read_text().strip() == "0"
    assert (run_dir / "loss.png").read_bytes()[:4] == b"\x89PNG"
    log = (run_dir / "train.log").read_text()
    assert "Training completed!" in log
    # The disk watchdog was asked once before each of the four saves, and each time it fit.
    for step in (10, 20, 30, 40):
        assert f"disk watchdog before checkpoint-{step} (needs " in log
    assert len(re.findall(r"disk watchdog before checkpoint-\d+ \(needs .*\): ok", log)) == 4
    assert "before the disk watchdog could check it" not in log
    # The first save is guarded with the configured size; from the second on, the size is learned from
    # the last complete checkpoint; the last one adds the final weights save to the output_dir root.
    assert "checkpoint-10 (needs 1024 bytes: checkpoint 1024 (configured)): ok" in log
    need = re.search(
        r"disk watchdog before checkpoint-20 \(needs (\d+) bytes: checkpoint \d+ \(learned\)\)", log
    )
    assert need is not None and int(need.group(1)) > 1024
    assert re.search(
        r"before checkpoint-40 \(needs \d+ bytes: checkpoint \d+ \(learned\) \+ final weights \d+\)", log
    )
    cmdline = json.loads((run_dir / "cmdline.json").read_text())
    assert cmdline["argv"][1:3] == ["-m", "torch.distributed.run"]
    # The launch's provenance is recorded next to the command, for the model card.
    assert cmdline["groot_ops_commit"] == done["groot_ops_commit"] == "c" * 40
    assert cmdline["groot_ops_dirty"] is done["groot_ops_dirty"] is False
    assert not Path(spec["runs_root"], "active.json").exists()

    again = runs.start(spec)
    assert again["action"] == "noop" and not again["changed"]
    # A newer groot-ops commit on the controller is provenance, not a new command: still a no-op.
    newer = runs.start({**spec, "groot_ops_commit": "d" * 40, "groot_ops_dirty": True})
    assert newer["action"] == "noop" and not newer["changed"]
    assert json.loads((run_dir / "cmdline.json").read_text())["groot_ops_commit"] == "c" * 40
    assert runs.start(spec, check=True)["action"] == "noop"


def test_kill9_then_crash_during_save_then_resume_matches_uninterrupted(runs: Runs) -> None:
    # The uninterrupted reference trains alongside (another workstation: its own runs root, lock and
    # dataset copy; each launch rewrites meta/relative_stats.json in place, as upstream does, so two
    # runs on one dataset directory can read each other's half-written file).
    own_data = runs.workspace / "ref-dataset"
    shutil.copytree(runs.dataset, own_data)
    reference = runs.spec("ref", runs_root="runs-ref", dataset_path=str(own_data))
    runs.start(reference)
    spec = runs.spec("lab-b", env={"GROOT_STANDIN_STEP_SLEEP_S": "0.25"})
    runs.start(spec)
    status = runs.wait(spec, lambda s: (s.get("last_checkpoint_step") or 0) >= 10 and s["step"] >= 12)
    workers = trainer_children(int(status["torchrun_pid"]))
    assert workers, "torchrun has no worker process"
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    failed = runs.wait_done(spec)
    # No OOM kill was recorded by the kernel or the cgroup: a kill -9, not host memory.
    assert failed["state"] == "failed:killed", failed
    assert failed["failure"]["message"].startswith("killed by signal 9 (SIGKILL)")
    assert "no OOM kill recorded" in failed["failure"]["message"]
    assert failed["eta_s"] is None and failed["it_s"] is None  # a failed run shows no ETA
    assert failed["exit_code"] != 0  # the crash is not reported as success
    killed_at = checkpoints.checkpoint_step(checkpoints.latest_complete(spec["output_dir"]))
    assert killed_at is not None and killed_at < 40

    # Second attempt dies half-way through writing its next checkpoint.
    crashing = dict(spec, env={**spec["env"], "GROOT_STANDIN_CRASH_DURING_SAVE": "1"})
    resumed = runs.start(crashing)
    assert resumed["action"] == "resumed" and resumed["resume_step"] == killed_at
    assert runs.wait_done(crashing)["state"].startswith("failed:")
    half = Path(spec["output_dir"], f"checkpoint-{killed_at + 10}")
    assert half.is_dir() and not checkpoints.is_complete(half)

    planned = runs.start(spec, check=True)
    assert planned["action"] == "resume" and planned["resume_step"] == killed_at
    assert [Path(q["checkpoint"]).name for q in planned["quarantine"]] == [half.name]
    final = runs.start(spec)
    assert final["action"] == "resumed"
    assert runs.wait_done(reference)["state"] == "finished"
    done = runs.wait_done(spec)
    assert done["state"] == "finished", done
    assert done["step"] == 40 and done["last_checkpoint_step"] == 40
    quarantined = done["quarantined"]
    assert len(quarantined) == 1 and Path(quarantined[0]["quarantine"]).is_dir()
    quarantine_root = Path(spec["output_dir"]).parent / ".quarantine" / "lab-b"
    assert Path(quarantined[0]["quarantine"]).parent == quarantine_root
    log = Path(spec["runs_root"], "lab-b", "train.log").read_text()
    assert f"Resuming from checkpoint {spec['output_dir']}/checkpoint-{killed_at}" in log
    # Same batches, same optimizer and scheduler state: identical to the run that was never interrupted.
    assert final_loss(spec["output_dir"]) == pytest.approx(final_loss(reference["output_dir"]), abs=1e-4)
    # The loss history covers the whole run (every attempt) from trainer_state.json, with the three
    # attempts, their resume steps and the two failures recorded for the plot.
    assert [e["step"] for e in final_state(spec["output_dir"])["log_history"]] == [10, 20, 30, 40]
    attempts = json.loads(Path(spec["runs_root"], "lab-b", "attempts.json").read_text())
    assert [a["start_step"] for a in attempts] == [0, killed_at, killed_at]
    assert [(a.get("failure") or {}).get("class") for a in attempts] == ["killed", "unknown", None]
    assert Path(done["loss_plot"]).read_bytes()[:4] == b"\x89PNG"
    launch = json.loads(Path(spec["runs_root"], "lab-b", "launch.json").read_text())
    assert launch["recipe"] == "lab-b" and launch["data_fingerprint"]


def test_second_recipe_refused_same_recipe_noop_and_stop(runs: Runs) -> None:
    slow = runs.spec("lab-slow", env={"GROOT_STANDIN_STEP_SLEEP_S": "0.5"}, flags={"max_steps": 400})
    runs.start(slow)
    other = runs.start(runs.spec("lab-other"))
    assert other["action"] == "refused" and other["running_recipe"] == "lab-slow"
    assert "lab-slow" in other["msg"]
    same = runs.start(slow)
    assert same["action"] == "noop" and not same["changed"]
    assert same["msg"] == "recipe lab-slow is already training"
    changed = runs.start({**slow, "flags": {**slow["flags"], "max_steps": 800}})
    assert changed["action"] == "noop" and "stop it first to apply the change" in changed["msg"]
    runs.wait(slow, lambda s: s["state"] == "running")
    assert supervisor.stop(slow["runs_root"], "lab-slow", check=True)["action"] == "stop"
    stopped = supervisor.stop(slow["runs_root"], "lab-slow")
    assert stopped["changed"] and stopped["status"]["state"] == "stopped"
    assert not Path(slow["runs_root"], "active.json").exists()
    assert supervisor.stop(slow["runs_root"], "lab-slow")["changed"] is False


def test_bad_flags_are_refused_before_anything_is_launched(runs: Runs) -> None:
    from groot_ops.errors import ConfigError

    for over, needle in (
        ({"embodiment_tag": "unitree_g1"}, "recipe lab-bad: embodiment_tag 'unitree_g1'"),
        ({"flags": {"tune_llm": "maybe"}}, "recipe lab-bad: training flag tune_llm must be a boolean"),
        (
            {"flags": {"color_jitter_params": {}}},
            "recipe lab-bad: training flag color_jitter_params is empty",
        ),
    ):
        spec = runs.spec("lab-bad", **over)
        with pytest.raises(ConfigError, match=re.escape(needle)):
            runs.start(spec)
        assert not Path(spec["runs_root"], "lab-bad").exists()


def test_an_upstream_config_assertion_is_a_config_failure_without_retry(runs: Runs) -> None:
    # The Eagle backbone's assert (flash attention) is configuration, not data.
    spec = runs.spec("lab-flash", env={"GROOT_STANDIN_FAIL": "flash_attention"})
    runs.start(spec)
    done = runs.wait_done(spec)
    assert done["state"] == "failed:config", done
    assert (
        done["failure"]["message"]
        == "AssertionError: nvidia/Eagle-Block2A-2B-v2 requires flash attention by default"
    )
    assert "re-run the datasets stage" not in done["failure"]["advice"]
    assert done["attempt"] == 0


@pytest.mark.parametrize(
    ("fail", "state", "retryable", "needle"),
    [
        ("cuda_oom", "failed:cuda_oom", False, "torch.OutOfMemoryError: CUDA out of memory"),
        ("nccl_timeout", "failed:timeout", True, "Watchdog caught collective operation timeout"),
    ],
)
def test_trainer_failures_are_classified_with_advice(
    runs: Runs, fail: str, state: str, retryable: bool, needle: str
) -> None:
    # max_retries 0 keeps this to one launch; the relaunch loop itself is the disk-full test's subject.
    spec = runs.spec(f"lab-{fail}", env={"GROOT_STANDIN_FAIL": fail}, max_retries=0)
    runs.start(spec)
    done = runs.wait_done(spec)
    assert done["state"] == state, done
    assert done["attempt"] == 0
    assert done["failure"]["retryable"] is retryable
    assert needle in done["failure"]["message"]
    assert done["failure"]["advice"]
    assert done["exit_code"] != 0


def test_disk_full_is_retried_a_bounded_number_of_times(runs: Runs) -> None:
    spec = runs.spec("lab-disk", env={"GROOT_STANDIN_FAIL": "disk_full"}, max_retries=1)
    runs.start(spec)
    done = runs.wait_done(spec)
    assert done["state"] == "failed:disk", done
    assert done["attempt"] == 1
    assert "No space left on device" in done["failure"]["message"]
    log = Path(spec["runs_root"], "lab-disk", "train.log").read_text()
    assert log.count("attempt 0 of recipe") == 1 and log.count("attempt 1 of recipe") == 1


def test_two_nodes_without_a_shared_output_dir_cannot_resume(runs: Runs) -> None:
    """What the finetune role's shared-directory check refuses: node 1 keeps shards only, never rotated."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    common = {
        "nnodes": 2,
        "rdzv_endpoint": f"127.0.0.1:{port}",
        "flags": {"max_steps": 20, "save_total_limit": 1},
    }
    node0 = runs.spec("lab-2n", runs_root="node0/runs", node_rank=0, **common)
    node1 = runs.spec(
        "lab-2n",
        runs_root="node1/runs",
        node_rank=1,
        output_dir=str(runs.workspace / "node1" / "checkpoints" / "lab-2n"),
        **common,
    )
    assert runs.start(node0)["command"].count("--num_gpus 2") == 1
    runs.start(node1)
    done0, done1 = runs.wait_done(node0, timeout=150), runs.wait_done(node1, timeout=150)
    assert done0["state"] == "finished", done0
    assert done1["state"] == "finished", done1
    assert done0["step"] == 20
    assert checkpoints.is_complete(Path(node0["output_dir"], "checkpoint-20"))
    argv = json.loads(Path(node1["runs_root"], "lab-2n", "cmdline.json").read_text())["argv"]
    assert "--node_rank=1" in argv and f"--master_port={port}" in argv
    # Node 0 is global rank 0: trainer state, weights and rotation. Node 1 has only its ranks' optimizer
    # shards, of every save (nothing rotates them), and no checkpoint it could resume from.
    assert not Path(node1["output_dir"], "checkpoint-20", "trainer_state.json").exists()
    assert [p.name for p in checkpoints.list_checkpoints(node0["output_dir"])] == ["checkpoint-20"]
    assert [p.name for p in checkpoints.list_checkpoints(node1["output_dir"])] == [
        "checkpoint-10",
        "checkpoint-20",
    ]
    assert checkpoints.latest_complete(node1["output_dir"]) is None
    assert supervisor.start(node1, check=True)["quarantine"] == []


def test_disk_watchdog_insufficient_stops_before_the_save(runs: Runs) -> None:
    spec = runs.spec(
        "lab-full",
        env={"GROOT_STANDIN_STEP_SLEEP_S": "0.2"},
        disk_guard={"watch_path": str(runs.workspace)},
        checkpoint_bytes=10**18,  # no disk has an exabyte free: the watchdog must say insufficient
    )
    runs.start(spec)
    done = runs.wait_done(spec)
    assert done["state"] == "failed:disk", done
    assert "stopped before checkpoint-10" in done["failure"]["message"]
    assert "next checkpoint needs" in done["failure"]["message"]
    assert done["attempt"] == 0 and done["step"] < 10
    assert checkpoints.list_checkpoints(spec["output_dir"]) == []
    assert not Path(spec["runs_root"], "active.json").exists()


def test_whole_tree_killed_reads_interrupted_and_relaunch_resumes(runs: Runs) -> None:
    spec = runs.spec("lab-crash", env={"GROOT_STANDIN_STEP_SLEEP_S": "0.2"}, flags={"max_steps": 40})
    runs.start(spec)
    status = runs.wait(spec, lambda s: (s.get("last_checkpoint_step") or 0) >= 10 and s["step"] >= 11)
    # Like a container restart: supervisor and torchrun die at once, nobody writes a final status.
    os.killpg(int(status["supervisor_pid"]), signal.SIGKILL)
    os.killpg(int(status["torchrun_pid"]), signal.SIGKILL)
    # On a loaded machine the trainer may have gone on past the status we saw: the disk decides.
    killed_at = checkpoints.checkpoint_step(checkpoints.latest_complete(spec["output_dir"]))
    assert killed_at is not None and 10 <= killed_at < 40
    lost = runs.wait(spec, lambda s: s["state"] == "failed:interrupted")
    assert "is gone without a final status" in lost["failure"]["message"]
    assert Path(spec["runs_root"], "active.json").exists()  # left behind by the dead supervisor

    again = runs.start(spec)
    assert again["action"] == "resumed" and again["resume_step"] == killed_at
    assert again["stale_lock"]["recipe"] == "lab-crash"
    done = runs.wait_done(spec)
    assert done["state"] == "finished" and done["step"] == 40, done


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(runs: Runs) -> None:
    spec = runs.spec(
        "lab-nan", env={"GROOT_STANDIN_NAN_FROM_STEP": "15", "GROOT_STANDIN_STEP_SLEEP_S": "0.1"}
    )
    runs.start(spec)
    done = runs.wait_done(spec)
    assert done["state"] == "failed:diverged", done
    # HF's filter logs a finite loss; the grad norm of step 20's window is what went NaN.
    assert (
        done["nonfinite"]["step"] == 20 and done["nonfinite"]["grad_norm"] != done["nonfinite"]["grad_norm"]
    )
    assert "non-finite loss or grad_norm at step 20" in done["failure"]["message"]
    assert "learning_rate" in done["failure"]["advice"] and not done["failure"]["retryable"]
    assert done["eta_s"] is None
    # Checkpoints saved after the last finite log entry hold NaN weights: quarantined, not resumed from.
    assert [p.name for p in checkpoints.list_checkpoints(spec["output_dir"])] == ["checkpoint-10"]
    assert any("NaN/inf" in q.get("reason", "") for q in done["quarantined"])
    attempts = json.loads(Path(spec["runs_root"], "lab-nan", "attempts.json").read_text())
    assert attempts[-1]["failure"]["class"] == "diverged"
    assert Path(done["loss_plot"]).read_bytes()[:4] == b"\x89PNG"
    log = Path(spec["runs_root"], "lab-nan", "train.log").read_text()
    assert "non-finite training metrics at step 20" in log and "stopping the trainer" in log


def test_launch_record_is_fixed_at_launch_and_a_changed_dataset_is_reported(
    runs: Runs, tmp_path: Path
) -> None:
    import shutil

    dataset = Path(shutil.copytree(runs.dataset, tmp_path / "dataset-copy", symlinks=True))
    provenance = tmp_path / "provenance.json"
    pinned = {"name": "towel", "repo_id": "u/G1_Towel", "revision": "main", "sha": "a" * 40}
    provenance.write_text(json.dumps({"datasets": [{**pinned, "files": 3}]}))
    spec = runs.spec(
        "lab-prov",
        dataset_path=str(dataset),
        datasets_provenance=str(provenance),
        base_model_revision="b" * 40,
        groot_ops_commit="c" * 40,
        groot_ops_dirty=False,
        flags={"max_steps": 20},
    )
    runs.start(spec)
    assert runs.wait_done(spec)["state"] == "finished"
    run_dir = Path(spec["runs_root"], "lab-prov")
    launch = json.loads((run_dir / "launch.json").read_text())
    assert set(launch) == {
        "recipe", "launched_at", "groot_ops_commit", "groot_ops_dirty", "isaac_groot_commit", "base_model",
        "embodiment_tag", "datasets", "data_fingerprint", "stats_fingerprint", "flags", "modality_config",
        "warm_start",
    }  # fmt: skip
    assert launch["datasets"] == [pinned]
    assert launch["base_model"] == {"id": "nvidia/GR00T-N1.6-3B", "revision": "b" * 40}
    assert (launch["groot_ops_commit"], launch["groot_ops_dirty"], launch["embodiment_tag"]) == (
        "c" * 40,
        False,
        "UNITREE_G1",
    )
    assert launch["flags"]["max_steps"] == 20 and launch["flags"]["num_gpus"] == 1
    assert launch["flags"]["tune_projector"] is True  # upstream's default, recorded as effective
    assert launch["modality_config"] is None and launch["warm_start"] is None
    assert runs.status(spec)["trained_on_older_data"] is False

    # The dataset changes after the run finished: never silently "up to date".
    (dataset / "meta" / "tasks.jsonl").write_text('{"task_index": 0, "task": "Fold the towel twice."}\n')
    status = runs.status(spec)
    assert status["trained_on_older_data"] is True and "trained on older data" in status["data_drift"]["note"]
    again = runs.start(spec)
    assert again["action"] == "noop" and again["trained_on_older_data"] is True
    assert "trained on older data" in again["msg"]
    assert json.loads((run_dir / "launch.json").read_text()) == launch
