"""Launch, observe and stop training runs: the API behind the ``groot_train`` module and the CLI.

``start`` decides between launch, true resume, no-op and refusal, records the launch (``launch.json``)
of a new run, then starts the detached run loop (:mod:`groot_ops.train.run_loop`) and returns at once.
``status`` reads the run's ``status.json`` and says what it cannot: a supervisor that vanished, a
finished run whose dataset changed since ("trained on older data").
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import groot_ops
from groot_ops.atomic import SECRET_MODE, write_json
from groot_ops.errors import GrootOpsError, InputError
from groot_ops.train import checkpoints, provenance, runfiles
from groot_ops.train.command import LAUNCH_SCRIPT, torchrun_argv
from groot_ops.train.history import Attempts
from groot_ops.train.runfiles import RunFiles
from groot_ops.train.spec import TrainSpec, load_spec

TERMINAL_STATES = ("finished", "stopped")
STOP_TIMEOUT_S = 120.0


def _render(argv: list[str]) -> str:
    return shlex.join(argv)


def _check_inputs(spec: TrainSpec) -> list[str]:
    """Problems with the files the launch needs, each naming the path."""
    problems = []
    script = Path(spec.isaac_groot_dir) / LAUNCH_SCRIPT
    if not script.is_file():
        problems.append(f"Isaac-GR00T launch script not found: {script}")
    info = Path(spec.dataset_path) / "meta" / "info.json"
    if not info.is_file():
        problems.append(f"dataset not found (no {info})")
    if not shutil.which(spec.python):
        problems.append(f"python interpreter for torchrun not found or not executable: {spec.python}")
    if spec.warm_start_from and not Path(spec.warm_start_from).is_dir():
        problems.append(f"warm_start_from checkpoint not found: {spec.warm_start_from}")
    modality = spec.flags.get("modality_config_path")
    if modality and not (Path(modality).is_file() and str(modality).endswith(".py")):
        # launch_finetune.py load_modality_config: an existing .py file, else FileNotFoundError.
        problems.append(f"recipe {spec.recipe}: modality_config_path is not an existing .py file: {modality}")
    elif modality and info.is_file():
        problems.extend(_modality_problems(spec, Path(modality)))
    elif spec.embodiment_tag == "NEW_EMBODIMENT":
        # gr00t/configs/base_config.py Config.validate: MODALITY_CONFIGS["new_embodiment"] -> KeyError.
        problems.append(
            f"recipe {spec.recipe}: embodiment_tag NEW_EMBODIMENT needs a modality config "
            "(recipe key modality_config; upstream fails with KeyError: 'new_embodiment')"
        )
    return problems


def _modality_problems(spec: TrainSpec, config: Path) -> list[str]:
    """The modality config against the dataset's meta/modality.json: before torchrun, so before GPU time."""
    from groot_ops.train.modality_config import check_against_dataset, parse_modality_config

    try:
        parsed = parse_modality_config(config)
    except GrootOpsError as exc:
        return [f"recipe {spec.recipe}: {exc}"]
    return [
        f"recipe {spec.recipe}: {line}"
        for line in check_against_dataset(parsed, spec.dataset_path, embodiment_tag=spec.embodiment_tag)
    ]


def _secret_names(secrets: dict[str, str] | None) -> list[str]:
    return sorted(secrets or {})


def status(runs_root: str | os.PathLike[str], recipe: str) -> dict[str, Any]:
    """status.json of the recipe's run; a run whose supervisor vanished is reported as interrupted."""
    files = RunFiles(runs_root, recipe)
    data = runfiles.read_json(files.status)
    if data is None:
        return {"recipe": recipe, "state": "absent", "run_dir": str(files.dir), "changed": False}
    state = str(data.get("state", ""))
    if state not in TERMINAL_STATES and not state.startswith("failed:"):
        pid = data.get("supervisor_pid")
        lock = runfiles.read_lock(runs_root)
        starting = lock is not None and lock.get("recipe") == recipe and runfiles.lock_is_live(lock)
        if not runfiles.supervisor_alive(pid) and not starting:
            # Its run loop died before it could delete the secrets file (or never read it).
            files.secrets.unlink(missing_ok=True)
            data["state"] = "failed:interrupted"
            data["it_s"] = data["eta_s"] = None
            data["failure"] = {
                "class": "interrupted",
                "message": f"the supervisor (pid {pid}) is gone without a final status "
                "(container restarted?)",
                "advice": "re-run the recipe: it resumes from the last complete checkpoint.",
                "retryable": False,
                "exit_code": None,
            }
    if data.get("state") == "finished":
        drift = provenance.data_drift(files.dir, _dataset_path(files))
        data["trained_on_older_data"] = drift is not None
        if drift is not None:
            data["data_drift"] = drift
    data["changed"] = False
    data["run_dir"] = str(files.dir)
    return data


def _dataset_path(files: RunFiles) -> str | None:
    spec = runfiles.read_json(files.spec) or {}
    value = spec.get("dataset_path")
    return value if isinstance(value, str) else None


def launch_provenance(spec: TrainSpec) -> dict[str, Any]:
    """The launch's provenance recorded in cmdline.json and status.json (read by the publish role)."""
    return {"groot_ops_commit": spec.groot_ops_commit, "groot_ops_dirty": spec.groot_ops_dirty}


def _plan(spec: TrainSpec, argv: list[str]) -> dict[str, Any]:
    files = RunFiles(spec.runs_root, spec.recipe)
    previous = runfiles.read_json(files.status) or {}
    previous_cmd = runfiles.read_json(files.cmdline) or {}
    latest = checkpoints.latest_complete(spec.checkpoint_dir, checkpoints.RESUMABLE)
    latest_step = checkpoints.checkpoint_step(latest) if latest else None
    same_cmd = previous_cmd.get("argv") == argv
    done = (previous.get("state") == "finished" and same_cmd) or (
        latest_step is not None and latest_step >= spec.max_steps
    )
    if done:
        action = "noop"
    elif latest is not None:
        action = "resume"
    else:
        action = "launch"
    return {
        "action": action,
        "resume_step": latest_step,
        "resume_from": str(latest) if latest else None,
        "previous_state": previous.get("state"),
        "before": previous_cmd.get("command", ""),
    }


def start(
    spec: dict[str, Any], *, check: bool = False, secrets: dict[str, str] | None = None
) -> dict[str, Any]:
    """Launch or resume the recipe's run detached; refuse while another recipe trains here.

    Returns ``action``: ``launched``/``resumed``/``noop``/``refused`` (``launch``/``resume`` in check mode).
    """
    parsed = load_spec(spec)
    argv = torchrun_argv(parsed)
    command = _render(argv)
    files = RunFiles(parsed.runs_root, parsed.recipe)
    result: dict[str, Any] = {
        "changed": False,
        "recipe": parsed.recipe,
        "run_dir": str(files.dir),
        "output_dir": parsed.output_dir,
        "command": command,
        "warm_start_from": parsed.warm_start_from,
        "node_rank": parsed.node_rank,
        "world_size": parsed.world_size,
    }
    lock = runfiles.read_lock(parsed.runs_root)
    if lock is not None and runfiles.lock_is_live(lock):
        running = status(parsed.runs_root, str(lock.get("recipe")))
        if lock.get("recipe") == parsed.recipe:
            msg = f"recipe {parsed.recipe} is already training"
            running_cmd = (runfiles.read_json(files.cmdline) or {}).get("argv")
            if running_cmd is not None and running_cmd != argv:
                msg += " with a different command line; stop it first to apply the change"
            return {**result, "action": "noop", "msg": msg, "status": running}
        return {
            **result,
            "action": "refused",
            "running_recipe": lock.get("recipe"),
            "msg": (
                f"refused: recipe {lock.get('recipe')} is training on this workstation "
                f"(run {lock.get('run_dir')}, supervisor pid {lock.get('pid')}); stop it or wait for it"
            ),
            "status": running,
        }
    stale_lock = lock  # here a lock can only be one whose supervisor is gone
    if stale_lock is not None:
        result["stale_lock"] = stale_lock
    plan = _plan(parsed, argv)
    # Other nodes hold only their ranks' shards (no trainer_state.json): complete for them, never moved.
    would_quarantine = (
        checkpoints.quarantine_incomplete(parsed.checkpoint_dir, parsed.quarantine_path, check=True)
        if parsed.node_rank == 0
        else []
    )
    result.update(
        resume_step=plan["resume_step"],
        resume_from=plan["resume_from"],
        quarantine=would_quarantine,
        diff={"before": plan["before"] + ("\n" if plan["before"] else ""), "after": command + "\n"},
    )
    if plan["action"] == "noop":
        result["diff"]["after"] = result["diff"]["before"]
        current = status(parsed.runs_root, parsed.recipe)
        drift = provenance.data_drift(files.dir, parsed.dataset_path)
        if drift is not None:
            # Never silently up to date: the finished run did not see today's dataset.
            result["msg"] = drift["note"]
            result["trained_on_older_data"] = True
        return {**result, "action": "noop", "status": current}
    problems = _check_inputs(parsed)
    if check:
        result["warnings"] = problems
        return {**result, "changed": True, "action": plan["action"]}
    if problems:
        raise InputError("; ".join(problems))
    if stale_lock is not None:
        # Its supervisor is gone (container restart, kill -9): the lock protects nothing any more.
        runfiles.remove_stale_lock(parsed.runs_root, stale_lock)
    if not runfiles.try_acquire_lock(parsed.runs_root, parsed.recipe):
        raise GrootOpsError(
            f"another launch took the workstation lock {runfiles.lock_path(parsed.runs_root)} first"
        )
    try:
        pid = _spawn(parsed, argv, files, secrets, plan)
    except BaseException:
        runfiles.release_lock(parsed.runs_root, parsed.recipe)
        raise
    runfiles.set_lock_pid(parsed.runs_root, parsed.recipe, pid)
    action = "resumed" if plan["action"] == "resume" else "launched"
    return {
        **result,
        "changed": True,
        "action": action,
        "pid": pid,
        "status": status(parsed.runs_root, parsed.recipe),
    }


def _spawn(
    spec: TrainSpec, argv: list[str], files: RunFiles, secrets: dict[str, str] | None, plan: dict[str, Any]
) -> int:
    files.dir.mkdir(parents=True, exist_ok=True)
    for stale in (files.exit_code, files.pid):
        stale.unlink(missing_ok=True)
    if plan["action"] == "launch":
        # A new run (nothing to resume): its provenance is fixed now; resumes leave it as it is.
        provenance.write_launch_record(spec)
        Attempts(files.attempts).reset()
    write_json(files.spec, spec.to_dict())
    write_json(
        files.cmdline,
        {
            "argv": argv,
            "command": _render(argv),
            "secret_env": _secret_names(secrets),
            # Provenance only: the same-run check compares argv alone.
            **launch_provenance(spec),
        },
    )
    if secrets:
        # Owner-only whatever the umask; the supervisor deletes it after reading.
        write_json(files.secrets, {str(k): str(v) for k, v in secrets.items()}, mode=SECRET_MODE)
    write_json(
        files.status,
        {
            "recipe": spec.recipe,
            "state": "starting",
            "step": plan["resume_step"] or 0,
            "max_steps": spec.max_steps,
            "node_rank": spec.node_rank,
            "attempt": 0,
            "started_at": time.time(),
            "updated_at": time.time(),
            "action": plan["action"],
            **launch_provenance(spec),
        },
    )
    env = dict(os.environ)
    package_root = str(Path(groot_ops.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    try:
        with open(files.supervisor_log, "ab") as log, open(os.devnull, "rb") as devnull:
            proc = subprocess.Popen(
                [sys.executable, "-m", runfiles.SUPERVISOR_MODULE, str(files.dir)],
                stdin=devnull,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=str(files.dir),
                # Own session: survives the Ansible connection (and its SIGHUP) going away.
                start_new_session=True,
                close_fds=True,
            )
        time.sleep(0.3)
        if proc.poll() is not None and proc.returncode != 0:
            tail = files.supervisor_log.read_text(errors="replace")[-2000:]
            raise GrootOpsError(f"the training supervisor exited at once ({proc.returncode}): {tail}")
    except BaseException:
        # The run loop never read the secrets: they must not stay on disk.
        files.secrets.unlink(missing_ok=True)
        raise
    return proc.pid


def stop(runs_root: str | os.PathLike[str], recipe: str, *, check: bool = False) -> dict[str, Any]:
    """Stop the recipe's run (SIGTERM to its supervisor, which stops torchrun cleanly between steps)."""
    lock = runfiles.read_lock(runs_root)
    running = lock is not None and lock.get("recipe") == recipe and runfiles.supervisor_alive(lock.get("pid"))
    if not running:
        return {"changed": False, "recipe": recipe, "action": "noop", "status": status(runs_root, recipe)}
    assert lock is not None
    pid = int(lock["pid"])
    if check:
        return {"changed": True, "recipe": recipe, "action": "stop", "pid": pid}
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while runfiles.supervisor_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if runfiles.supervisor_alive(pid):
        raise GrootOpsError(
            f"supervisor pid {pid} of recipe {recipe} did not stop within {STOP_TIMEOUT_S:.0f} s"
        )
    return {
        "changed": True,
        "recipe": recipe,
        "action": "stopped",
        "pid": pid,
        "status": status(runs_root, recipe),
    }
