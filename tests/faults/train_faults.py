"""Measure the training faults of the README's fault table, as an operator meets them.

Each case drives the real supervisor (``groot_ops.train.control`` start/status, as the finetune role and
``groot-ops train`` do) running real torchrun on CPU with the Isaac-GR00T stand-in, injects one fault and
records what the user sees (the state and the first line ``groot-ops train status`` prints, with its exit
code), what is kept (checkpoints on disk, quarantined ones) and the time to recover: from the moment the
failure is reported, the operator's relaunch (the same ``start``) until the run trains again and until it
reaches ``max_steps``. The disk cases run on a real 44 MiB tmpfs (mounting it needs root).

    .venv/bin/python -m tests.faults.train_faults [--json] [--only NAME]

Settings are the integration tests' (40 steps, a save every 10, ``save_total_limit`` 2, 0.2 s a step).
Needs no Docker; runs ~4-6 minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from groot_ops.train import checkpoints
from tests.integration.disk.test_small_filesystem import (
    SmallDisk,
    disk_spec,
    fill_protected_base_model,
    fill_reclaimable_caches,
)
from tests.integration.train.conftest import Runs, build_groot_dataset, trainer_children

REPO = Path(__file__).resolve().parents[2]
STEP_SLEEP_S = "0.2"
Status = dict[str, Any]


def _ended(s: Status) -> bool:
    return s["state"] in ("finished", "stopped") or s["state"].startswith("failed:")


def _training_past(step: int) -> Callable[[Status], bool]:
    """Training again: the relaunched trainer has made a step beyond the one it resumed from."""
    return lambda s: _ended(s) or (s["state"] == "running" and (s.get("step") or 0) > step)


class Case:
    """One fault: a ``Runs`` helper (waits, cleanup) and the clock."""

    def __init__(self, root: Path, dataset: Path) -> None:
        self.runs = Runs(root, dataset)
        self.started = time.monotonic()

    def now(self) -> float:
        return time.monotonic()

    def user_sees(self, spec: dict[str, Any]) -> dict[str, Any]:
        """What ``groot-ops train status`` prints (its first line) and its exit code."""
        argv = [sys.executable, "-m", "groot_ops", "train", "status", "--runs-root", spec["runs_root"],
                "--recipe", spec["recipe"]]  # fmt: skip
        proc = subprocess.run(argv, cwd=REPO, env=dict(os.environ, NO_COLOR="1"), capture_output=True,
                              text=True, timeout=120)  # fmt: skip
        status = self.runs.status(spec)
        failure = status.get("failure") or {}
        return {
            "state": status["state"],
            "step": status.get("step"),
            "rc": proc.returncode,
            "first_line": (proc.stdout.strip().splitlines() or [proc.stderr.strip()])[0],
            "failure_class": failure.get("class"),
            "retryable": failure.get("retryable"),
            "advice": failure.get("advice"),
        }

    def kept(self, spec: dict[str, Any]) -> dict[str, Any]:
        out = Path(spec["output_dir"])
        found = checkpoints.list_checkpoints(out)
        quarantine = out.parent / ".quarantine"
        return {
            "checkpoints": [
                f"{c.name}{'' if checkpoints.is_complete(c) else ' (incomplete)'}" for c in found
            ],
            "quarantined": sorted(
                str(p.relative_to(quarantine)) for p in quarantine.glob("*/*") if p.is_dir()
            ),
        }

    def relaunch(self, spec: dict[str, Any], failed_at: float) -> dict[str, Any]:
        """The operator's relaunch, right after the failure was reported; timed to training and max_steps."""
        t0 = self.now()
        plan = self.runs.start(spec, check=True)
        result = self.runs.start(spec)
        resume = result.get("resume_step") or 0
        again = self.runs.wait(spec, _training_past(resume), timeout=240)
        t_training = self.now()
        done = self.runs.wait_done(spec, timeout=240)
        t_done = self.now()
        return {
            "action": result["action"],
            "resume_step": result.get("resume_step"),
            "quarantined_on_relaunch": [Path(q["checkpoint"]).name for q in plan.get("quarantine", [])],
            "training_again": again["state"] == "running",
            "final_state": done["state"],
            "final_step": done.get("step"),
            "relaunch_to_training_s": round(t_training - t0, 1),
            "relaunch_to_max_steps_s": round(t_done - t0, 1),
            "failure_to_max_steps_s": round(t_done - failed_at, 1),
        }

    def close(self) -> None:
        self.runs.cleanup()


def _log(spec: dict[str, Any]) -> str:
    path = Path(spec["runs_root"], spec["recipe"], "train.log")
    return path.read_text(errors="replace") if path.exists() else ""


def case_kill9(root: Path, dataset: Path) -> dict[str, Any]:
    case = Case(root, dataset)
    try:
        spec = case.runs.spec("kill9", env={"GROOT_STANDIN_STEP_SLEEP_S": STEP_SLEEP_S})
        case.runs.start(spec)
        status = case.runs.wait(
            spec, lambda s: (s.get("last_checkpoint_step") or 0) >= 10 and s["step"] >= 12
        )
        killed_at = case.now()
        for pid in trainer_children(int(status["torchrun_pid"])):
            os.kill(pid, signal.SIGKILL)
        failed = case.runs.wait_done(spec)
        reported = case.now()
        sees = case.user_sees(spec)
        kept = case.kept(spec)
        recover = case.relaunch(spec, reported)
        return {
            "fault": "kill -9 of the trainer process mid-training",
            "step_at_fault": failed.get("step"),
            "reported_after_s": round(reported - killed_at, 1),
            "sees": sees,
            "kept": kept,
            "recover": recover,
        }
    finally:
        case.close()


def case_kill9_tree(root: Path, dataset: Path) -> dict[str, Any]:
    """Supervisor and torchrun killed at once (a container restart): nobody writes a final status."""
    case = Case(root, dataset)
    try:
        spec = case.runs.spec("kill9-tree", env={"GROOT_STANDIN_STEP_SLEEP_S": STEP_SLEEP_S})
        case.runs.start(spec)
        status = case.runs.wait(
            spec, lambda s: (s.get("last_checkpoint_step") or 0) >= 10 and s["step"] >= 12
        )
        killed_at = case.now()
        os.killpg(int(status["supervisor_pid"]), signal.SIGKILL)
        os.killpg(int(status["torchrun_pid"]), signal.SIGKILL)
        case.runs.wait(spec, lambda s: s["state"] == "failed:interrupted")
        reported = case.now()
        sees = case.user_sees(spec)
        kept = case.kept(spec)
        recover = case.relaunch(spec, reported)
        return {
            "fault": "kill -9 of supervisor and torchrun at once (container restart) mid-training",
            "step_at_fault": status.get("step"),
            "reported_after_s": round(reported - killed_at, 1),
            "sees": sees,
            "kept": kept,
            "recover": recover,
        }
    finally:
        case.close()


def case_crash_mid_save(root: Path, dataset: Path) -> dict[str, Any]:
    case = Case(root, dataset)
    try:
        spec = case.runs.spec("crash-save", env={"GROOT_STANDIN_STEP_SLEEP_S": STEP_SLEEP_S})
        # The trainer dies after checkpoint-20's weights, before its trainer_state.json.
        crashing = dict(spec, env={**spec["env"], "GROOT_STANDIN_CRASH_DURING_SAVE": "1",
                                   "GROOT_STANDIN_CRASH_AT_SAVE": "20"})  # fmt: skip
        case.runs.start(crashing)
        crashed_at: list[float] = []

        def watch(s: Status) -> bool:
            if not crashed_at and "GROOT_STANDIN_CRASH_DURING_SAVE: dying" in _log(spec):
                crashed_at.append(case.now())
            return _ended(s)

        failed = case.runs.wait(spec, watch)
        reported = case.now()
        sees = case.user_sees(spec)
        kept = case.kept(spec)
        recover = case.relaunch(spec, reported)  # the crash was transient: the same recipe again
        return {
            "fault": "trainer crash half-way through writing checkpoint-20",
            "step_at_fault": failed.get("step"),
            "reported_after_s": round(reported - crashed_at[0], 1) if crashed_at else None,
            "sees": sees,
            "kept": kept,
            "kept_after_recovery": case.kept(spec),
            "recover": recover,
        }
    finally:
        case.close()


def case_nan(root: Path, dataset: Path) -> dict[str, Any]:
    case = Case(root, dataset)
    try:
        spec = case.runs.spec(
            "nan", env={"GROOT_STANDIN_NAN_FROM_STEP": "15", "GROOT_STANDIN_STEP_SLEEP_S": STEP_SLEEP_S}
        )
        case.runs.start(spec)
        failed = case.runs.wait_done(spec)
        reported = case.now()
        sees = case.user_sees(spec)
        kept = case.kept(spec)
        # The operator's fix: a lower learning rate (the stand-in's NaN knob stands for the divergence).
        fixed = case.runs.spec(
            "nan", env={"GROOT_STANDIN_STEP_SLEEP_S": STEP_SLEEP_S}, flags={"learning_rate": 5e-4}
        )
        recover = case.relaunch(fixed, reported)
        return {
            "fault": "loss/grad_norm goes NaN from step 15",
            "step_at_fault": (failed.get("nonfinite") or {}).get("step"),
            "sees": sees,
            "kept": kept,
            "recover": recover,
        }
    finally:
        case.close()


def _disk_case(root: Path, dataset: Path, fill: Callable[[Path], Path]) -> tuple[Case, SmallDisk, dict]:
    root.mkdir(parents=True, exist_ok=True)
    case = Case(root, dataset)
    disk = SmallDisk(root)
    spec = disk_spec(disk, dataset)
    fill(disk.fs)
    case.runs.runs_roots.add(Path(spec["runs_root"]))
    return case, disk, spec


def case_disk_reclaimable(root: Path, dataset: Path) -> dict[str, Any]:
    case, disk, spec = _disk_case(root, dataset, fill_reclaimable_caches)
    try:
        free_before = shutil.disk_usage(disk.fs).free
        t0 = case.now()
        case.runs.start(spec)
        case.runs.wait_done(spec)
        took = case.now() - t0
        log = _log(spec)
        watchdog = [line.split("] ", 1)[-1] for line in log.splitlines() if ": cleaned" in line]
        fs = disk.fs
        reclaimed = {
            "unused model + interrupted download": not (
                fs / "hf-cache/hub/models--someone--old-model"
            ).exists(),
            "pip cache": not (fs / "pip" / "http-v2" / "wheel").exists(),
            "base model (protected)": not (fs / "hf-cache/hub/models--nvidia--GR00T-N1.6-3B").exists(),
        }
        return {
            "fault": "disk full at checkpoint-30 (44 MiB tmpfs, ~9 MB checkpoints) with reclaimable caches",
            "free_mib_at_start": round(free_before / 2**20, 1),
            "sees": case.user_sees(spec),
            "watchdog_lines": watchdog,
            "enospc_in_log": "No space left" in log,
            "reclaimed": reclaimed,
            "kept": case.kept(spec),
            "run_wall_s": round(took, 1),
        }
    finally:
        case.close()
        disk.close()


def case_disk_full(root: Path, dataset: Path) -> dict[str, Any]:
    case, disk, spec = _disk_case(root, dataset, fill_protected_base_model)
    try:
        case.runs.start(spec)
        case.runs.wait_done(spec)
        reported = case.now()
        sees = case.user_sees(spec)
        kept = case.kept(spec)
        enospc = "No space left" in _log(spec)
        disk.grow(96)  # the operator adds space (or deletes something the watchdog may not)
        recover = case.relaunch(spec, reported)
        return {
            "fault": "disk full at checkpoint-30, nothing reclaimable (44 MiB tmpfs, base model protected)",
            "sees": sees,
            "enospc_in_log": enospc,
            "kept": kept,
            "recover": recover,
        }
    finally:
        case.close()
        disk.close()


CASES: dict[str, Callable[[Path, Path], dict[str, Any]]] = {
    "kill9": case_kill9,
    "kill9_tree": case_kill9_tree,
    "crash_mid_save": case_crash_mid_save,
    "disk_reclaimable": case_disk_reclaimable,
    "disk_full": case_disk_full,
    "nan": case_nan,
}


def row(result: dict[str, Any]) -> str:
    """The README fault table's row: fault | what the user sees | what is kept | time to recover."""
    sees = result["sees"]
    kept = result["kept"]  # as the failure left it
    kept_text = ", ".join(kept["checkpoints"]) or "no checkpoint"
    if kept["quarantined"]:
        kept_text += f"; quarantined {', '.join(kept['quarantined'])}"
    if (result.get("recover") or {}).get("quarantined_on_relaunch"):
        kept_text += f"; the relaunch quarantines {', '.join(result['recover']['quarantined_on_relaunch'])}"
    if "reclaimed" in result:
        gone = [what for what, deleted in result["reclaimed"].items() if deleted]
        kept_text += f"; reclaimed: {', '.join(gone) or 'nothing'}"
    recover = result.get("recover")
    if recover is None:
        time_text = f"none: the run went on, {result['run_wall_s']} s for 40 steps"
    else:
        time_text = (
            f"relaunch ({recover['action']} from step {recover['resume_step']}): training in "
            f"{recover['relaunch_to_training_s']} s, max_steps in {recover['relaunch_to_max_steps_s']} s"
        )
    sees_text = f"`{sees['state']}` (rc {sees['rc']}): {sees['first_line']}"
    return f"| {result['fault']} | {sees_text} | {kept_text} | {time_text} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=sorted(CASES))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="groot-ops-train-faults-"))
    results: dict[str, Any] = {}
    try:
        dataset = build_groot_dataset(base / "data")
        for name in args.only or list(CASES):
            started = time.monotonic()
            results[name] = CASES[name](base / name, dataset)
            results[name]["case_wall_s"] = round(time.monotonic() - started, 1)
            results[name]["row"] = row(results[name])
            if not args.json:
                print(results[name]["row"], flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
