"""What the inference host serves, and the deploy decision: switch, re-deploy, restart, roll back to what.

The truth about what serves is the container's own command line (``--model-path /models/<revision>``),
not the state file: ``deployed.json`` records what the deploy concluded, and is rewritten after every
outcome (a passing probe, a rollback, a failed rollback) so that it names what the container runs.

Standard library only, and no import of the rest of groot_ops at module level: ``groot_server_state``
runs this on the inference host (through ``module_utils/groot_ops_deploy.py``), which has python3 and
Docker but not this project's package.

``deployed.json``::

    current:      {revision, requested, repo_id, deployed_at} | null   what the container runs
    previous:     {revision, requested, repo_id, deployed_at} | null   what ran before current
    healthy:      bool                     whether current passed the probe when it was last deployed
    last_failure: {revision, requested, repo_id, at, rolled_back_to} | null   the newest failed deploy
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

try:
    from groot_ops.errors import GrootOpsError
except ImportError:  # shipped as Ansible module_utils: groot_ops is not installed on the inference host

    class GrootOpsError(Exception):  # type: ignore[no-redef]
        """Stand-in of groot_ops.errors.GrootOpsError where the package is absent."""


MODELS_MOUNT = "/models"
MODEL_PATH_FLAGS = ("--model-path", "--model_path")
ENTRY_KEYS = ("revision", "requested", "repo_id", "deployed_at")

Runner = Callable[[Sequence[str]], tuple[int, str, str]]


class DeployStateError(GrootOpsError):
    """The host's Docker or state file could not be read."""


def run_docker(argv: Sequence[str]) -> tuple[int, str, str]:
    try:
        proc = subprocess.run(list(argv), capture_output=True, text=True, check=False, timeout=60)
    except FileNotFoundError:
        raise DeployStateError(f"{argv[0]} not found on this host (the docker CLI is required)") from None
    except subprocess.TimeoutExpired:
        raise DeployStateError(f"{' '.join(argv[:2])} did not answer within 60 s") from None
    return proc.returncode, proc.stdout, proc.stderr


def inspect_container(
    name: str, *, docker: str = "docker", run: Runner = run_docker
) -> dict[str, Any] | None:
    """``docker inspect NAME`` as a dict, or None when no such container exists."""
    rc, out, err = run([docker, "inspect", "--type", "container", name])
    if rc != 0:
        if "no such" in err.lower():
            return None
        raise DeployStateError(f"docker inspect {name} failed (exit {rc}): {err.strip()}")
    try:
        items = json.loads(out)
    except ValueError:
        raise DeployStateError(f"docker inspect {name} printed no JSON: {out[:200]!r}") from None
    return items[0] if isinstance(items, list) and items else None


def model_revision(command: Sequence[str] | None) -> str | None:
    """The revision directory the server command serves: ``--model-path /models/<revision>``."""
    args = list(command or [])
    for i, arg in enumerate(args):
        value = None
        if arg in MODEL_PATH_FLAGS and i + 1 < len(args):
            value = args[i + 1]
        else:
            for flag in MODEL_PATH_FLAGS:
                if arg.startswith(flag + "="):
                    value = arg[len(flag) + 1 :]
        if value is not None:
            path = value.rstrip("/")
            if path.startswith(MODELS_MOUNT + "/") and "/" not in path[len(MODELS_MOUNT) + 1 :]:
                return path[len(MODELS_MOUNT) + 1 :]
            return path or None
    return None


def server_command(revision: str, server: dict[str, Any]) -> list[str]:
    """The upstream server's command line for ``revision`` (contract section 7; ``--host 0.0.0.0`` always).

    ``server``: ``python``, ``embodiment_tag``, ``port``, ``device``, ``use_sim_policy_wrapper``.
    """
    argv = [
        str(server.get("python") or "python"),
        "gr00t/eval/run_gr00t_server.py",
        "--model-path",
        f"{MODELS_MOUNT}/{revision}",
        "--embodiment-tag",
        str(server.get("embodiment_tag") or "UNITREE_G1"),
        "--host",
        "0.0.0.0",
        "--port",
        str(int(server.get("port") or 5555)),
        "--device",
        str(server.get("device") or "cuda"),
    ]
    if server.get("use_sim_policy_wrapper"):
        argv.append("--use-sim-policy-wrapper")
    return argv


def container_view(info: dict[str, Any] | None) -> dict[str, Any]:
    """The facts of a ``docker inspect`` result that deploy and status use."""
    if info is None:
        return {"exists": False, "status": "missing", "running": False, "restarting": False, "revision": None}
    state = info.get("State") or {}
    config = info.get("Config") or {}
    return {
        "exists": True,
        "status": state.get("Status"),
        "running": bool(state.get("Running")) and not state.get("Restarting"),
        "restarting": bool(state.get("Restarting")),
        "restart_count": int(info.get("RestartCount") or 0),
        "exit_code": state.get("ExitCode"),
        "oom_killed": bool(state.get("OOMKilled")),
        "error": state.get("Error") or None,
        "started_at": state.get("StartedAt"),
        "finished_at": state.get("FinishedAt"),
        "image": config.get("Image"),
        "revision": model_revision(config.get("Cmd")),
    }


def read_state(path: str | Path) -> dict[str, Any]:
    """``deployed.json``, or an empty state when there is none (first deploy)."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise DeployStateError(f"unreadable deploy state {path}: {exc}") from None
    if not isinstance(data, dict):
        raise DeployStateError(f"deploy state {path} is not a JSON object")
    return data


def _entry(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict) or not value.get("revision"):
        return None
    return {key: value.get(key) for key in ENTRY_KEYS}


def _known_entry(state: dict[str, Any], revision: str) -> dict[str, Any]:
    """What the state knows about ``revision`` (a container may run one the state never recorded)."""
    for key in ("current", "previous"):
        entry = _entry(state.get(key))
        if entry is not None and entry["revision"] == revision:
            return entry
    return {"revision": revision, "requested": None, "repo_id": None, "deployed_at": None}


def plan_deploy(
    target: dict[str, Any],
    state: dict[str, Any],
    container: dict[str, Any],
    *,
    available: Callable[[str], bool],
    files_changed: bool = False,
    now: str,
) -> dict[str, Any]:
    """Decide the deploy of ``target`` ({revision, requested, repo_id}) given what is on the host.

    - The revision the container serves is the truth; the state only adds what it knows about it.
    - Re-deploying the serving revision never switches revisions: there is no rollback target, and the
      container is restarted when it is not running, crash-loops, or its files were just repaired.
    - A new revision rolls back to what serves now, or, with no container, to the recorded current
      revision; only when its files are on the host (``available``).
    - ``records`` holds the state file for each outcome: ``deployed``, ``rolled_back``,
      ``rollback_failed`` and ``failed`` (no rollback possible); the role writes the one that happened.
      A re-deploy that passes keeps the record byte for byte (``deployed_at`` kept), so a second run
      changes nothing; ``record_unchanged`` says the state file already holds ``deployed``.
    """
    revision = str(target["revision"])
    recorded = _entry(state.get("current"))
    serving = container.get("revision") if container.get("exists") else None
    target_entry = {
        "revision": revision,
        "requested": target.get("requested"),
        "repo_id": target.get("repo_id"),
        "deployed_at": now,
    }
    if serving == revision:
        action = "redeploy"
        known = _known_entry(state, revision)
        target_entry["deployed_at"] = known["deployed_at"] or now
        previous = (
            _entry(state.get("previous")) if recorded and recorded["revision"] == revision else recorded
        )
        rollback = None
    else:
        action = "switch" if serving else "start"
        fallback = serving or (recorded["revision"] if recorded else None)
        rollback = _known_entry(state, fallback) if fallback and fallback != revision else None
        if rollback is not None and not available(rollback["revision"]):
            rollback = None
        previous = rollback or (_known_entry(state, serving) if serving else recorded)
    # A redeploy restarts what cannot be trusted: a stopped or crash-looping container, files just
    # repaired under it, or a server the last deploy left unhealthy (a wedged process answers nothing).
    restart = action == "redeploy" and (
        files_changed
        or not container.get("running")
        or bool(container.get("restarting"))
        or state.get("healthy") is False
    )
    last_failure = state.get("last_failure") if isinstance(state.get("last_failure"), dict) else None

    def failure(rolled_back_to: str | None) -> dict[str, Any]:
        return {
            "revision": revision,
            "requested": target.get("requested"),
            "repo_id": target.get("repo_id"),
            "at": now,
            "rolled_back_to": rolled_back_to,
        }

    records: dict[str, Any] = {
        "deployed": {
            "current": target_entry,
            "previous": previous,
            "healthy": True,
            "last_failure": last_failure,
        },
        "failed": {
            "current": target_entry,
            "previous": previous,
            "healthy": False,
            "last_failure": failure(None),
        },
    }
    if rollback is not None:
        rolled_previous = _entry(state.get("previous")) if recorded == rollback else recorded
        if rolled_previous is not None and rolled_previous["revision"] == rollback["revision"]:
            rolled_previous = None
        records["rolled_back"] = {
            "current": rollback,
            "previous": rolled_previous,
            "healthy": True,
            "last_failure": failure(rollback["revision"]),
        }
        records["rollback_failed"] = {**records["rolled_back"], "healthy": False}
    if action == "redeploy":
        no_rollback = f"{revision} already served: not switched to another revision."
    elif rollback is None and (serving or recorded):
        no_rollback = (
            f"The revision before it ({serving or recorded['revision']}) is not on this host to roll back to."
        )
    else:
        no_rollback = "No previous revision to roll back to."
    return {
        "action": action,
        "no_rollback_reason": None if rollback else no_rollback,
        "revision": revision,
        "serving": serving,
        "recorded": recorded["revision"] if recorded else None,
        "restart": restart,
        "rollback": rollback,
        "records": records,
        # A redeploy that passes leaves the state file as it is: the role skips the write (a module run).
        "record_unchanged": state == records["deployed"],
    }


def container_health(container: dict[str, Any]) -> str:
    """One phrase: running, crash-looping, exited (with exit code and restarts), or no container."""
    if not container.get("exists"):
        return "no container"
    restarts = int(container.get("restart_count") or 0)
    times = f"restarted {restarts} time{'s' if restarts != 1 else ''}"
    oom = ", OOM-killed" if container.get("oom_killed") else ""
    if container.get("restarting"):
        return f"crash-looping ({times}, last exit code {container.get('exit_code')}{oom})"
    if container.get("running"):
        return f"running, {times}" if restarts else "running"
    return f"{container.get('status')} (exit code {container.get('exit_code')}{oom})"


def status_view(state: dict[str, Any], container: dict[str, Any]) -> dict[str, Any]:
    """What ``status`` reports: the container's own model and health first, the state file second."""
    recorded = _entry(state.get("current"))
    serving = container.get("revision") if container.get("exists") else None
    known = _known_entry(state, serving) if serving else None
    health = container_health(container)
    agrees = (recorded["revision"] if recorded else None) == serving
    note = None
    if not agrees:
        note = (
            f"deployed.json names {recorded['revision'] if recorded else 'nothing'}, "
            f"the container serves {serving or 'nothing'}"
        )
    return {
        "deployed_revision": serving,
        "repo_id": known["repo_id"] if known else None,
        "requested": known["requested"] if known else None,
        "container": health,
        "container_status": container.get("status"),
        "restart_count": container.get("restart_count", 0),
        "recorded_revision": recorded["revision"] if recorded else None,
        "recorded_healthy": state.get("healthy"),
        "agrees_with_record": agrees,
        "note": note,
        "last_failure": state.get("last_failure"),
    }


def host_state(
    container_name: str,
    state_file: str | Path,
    checkpoint_dir: str | Path,
    *,
    target: dict[str, Any] | None = None,
    server: dict[str, Any] | None = None,
    files_changed: bool = False,
    now: str,
    docker: str = "docker",
    run: Runner = run_docker,
) -> dict[str, Any]:
    """Read the container and the state file on the host; with ``target``, plan its deploy.

    With ``server`` (see :func:`server_command`) the plan carries the container's ``command`` for the
    target and ``rollback_command`` for the rollback revision.
    """
    container = container_view(inspect_container(container_name, docker=docker, run=run))
    state = read_state(state_file)
    result: dict[str, Any] = {
        "changed": False,
        "container": container,
        "state": state,
        "status": status_view(state, container),
    }
    if target is not None:
        root = Path(checkpoint_dir)
        result["plan"] = plan_deploy(
            target,
            state,
            container,
            available=lambda rev: (root / rev).is_dir(),
            files_changed=files_changed,
            now=now,
        )
        if server is not None:
            plan = result["plan"]
            plan["command"] = server_command(plan["revision"], server)
            rollback = plan["rollback"]
            plan["rollback_command"] = server_command(rollback["revision"], server) if rollback else None
    return result
