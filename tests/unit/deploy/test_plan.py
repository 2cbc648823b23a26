"""groot_ops.deploy: what serves is the container's own --model-path; the deploy decision and its records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groot_ops.deploy import (
    container_health,
    container_view,
    host_state,
    model_revision,
    plan_deploy,
    server_command,
    status_view,
)

A, B, C = "a" * 40, "b" * 40, "c" * 40
NOW = "2026-12-01T10:00:00Z"


def entry(rev: str, requested: str, at: str = "2026-11-01T00:00:00Z") -> dict:
    return {"revision": rev, "requested": requested, "repo_id": "org/model", "deployed_at": at}


def running(rev: str | None) -> dict:
    info = {
        "State": {"Status": "running", "Running": True, "Restarting": False, "ExitCode": 0},
        "RestartCount": 0,
        "Config": {"Cmd": server_command(rev, {}) if rev else [], "Image": "img"},
    }
    return container_view(info)


def looping(rev: str, restarts: int = 3) -> dict:
    state = {"Status": "restarting", "Running": True, "Restarting": True, "ExitCode": 1}
    return container_view(
        {"State": state, "RestartCount": restarts, "Config": {"Cmd": server_command(rev, {})}}
    )


def exited(rev: str) -> dict:
    state = {"Status": "exited", "Running": False, "ExitCode": 137}
    return container_view({"State": state, "RestartCount": 0, "Config": {"Cmd": server_command(rev, {})}})


def target(rev: str, requested: str) -> dict:
    return {"revision": rev, "requested": requested, "repo_id": "org/model"}


def everything(_: str) -> bool:
    return True


def test_model_revision_reads_every_spelling_of_the_model_path() -> None:
    assert model_revision(["python", "x.py", "--model-path", f"/models/{A}", "--port", "5555"]) == A
    assert model_revision(["python", "x.py", f"--model_path=/models/{A}/"]) == A
    assert model_revision(["python", "x.py", "--model-path", "/elsewhere/dir"]) == "/elsewhere/dir"
    assert model_revision(["sleep", "infinity"]) is None
    assert model_revision(None) is None


def test_redeploying_the_serving_revision_never_switches() -> None:
    """Issue 16.1: the old role rolled a re-deploy of B back to the older A on any probe failure."""
    state = {
        "current": entry(B, "step-4"),
        "previous": entry(A, "step-2"),
        "healthy": True,
        "last_failure": None,
    }
    plan = plan_deploy(target(B, "step-4"), state, running(B), available=everything, now=NOW)
    assert plan["action"] == "redeploy"
    assert plan["rollback"] is None and "rolled_back" not in plan["records"]
    assert "already served" in plan["no_rollback_reason"]
    # A passing re-deploy leaves the record as it was, byte for byte (second run changed=0), and says so:
    # the role skips the write.
    assert plan["records"]["deployed"] == state
    assert plan["record_unchanged"] is True
    # Asked for by another name (a tag moved onto the same commit), the record changes and is written.
    renamed = plan_deploy(target(B, "main"), state, running(B), available=everything, now=NOW)
    assert renamed["record_unchanged"] is False
    # After an unhealthy deploy the same revision's record changes (healthy again) and is written.
    sick = plan_deploy(
        target(B, "step-4"), {**state, "healthy": False}, running(B), available=everything, now=NOW
    )
    assert sick["record_unchanged"] is False
    failed = plan["records"]["failed"]
    assert failed["current"]["revision"] == B and failed["healthy"] is False
    assert failed["last_failure"] == {
        "revision": B, "requested": "step-4", "repo_id": "org/model", "at": NOW, "rolled_back_to": None,
    }  # fmt: skip


def test_a_new_revision_rolls_back_to_what_the_container_serves_not_to_the_record() -> None:
    # The record says C, the container runs A: A is what served, so A is the rollback target.
    state = {"current": entry(C, "step-6"), "previous": entry(A, "step-2"), "healthy": True}
    plan = plan_deploy(target(B, "step-8"), state, running(A), available=everything, now=NOW)
    assert plan["action"] == "switch" and plan["serving"] == A and plan["recorded"] == C
    assert plan["rollback"] == entry(A, "step-2")
    deployed = plan["records"]["deployed"]
    assert deployed["current"] == {**target(B, "step-8"), "deployed_at": NOW}
    assert deployed["previous"]["revision"] == A
    rolled = plan["records"]["rolled_back"]
    assert rolled["current"]["revision"] == A and rolled["healthy"] is True
    assert rolled["last_failure"]["revision"] == B and rolled["last_failure"]["rolled_back_to"] == A
    # When the rollback's own probe fails, the record still names what the container runs: A.
    assert plan["records"]["rollback_failed"]["current"]["revision"] == A
    assert plan["records"]["rollback_failed"]["healthy"] is False


def test_rolled_back_record_keeps_the_older_history() -> None:
    state = {"current": entry(A, "step-2"), "previous": entry(C, "step-1"), "healthy": True}
    plan = plan_deploy(target(B, "step-4"), state, running(A), available=everything, now=NOW)
    assert plan["records"]["rolled_back"]["previous"]["revision"] == C
    assert plan["records"]["deployed"]["previous"]["revision"] == A


def test_no_container_falls_back_to_the_recorded_revision_only_when_its_files_are_there() -> None:
    state = {"current": entry(A, "step-2"), "previous": None, "healthy": True}
    missing = container_view(None)
    plan = plan_deploy(target(B, "step-4"), state, missing, available=everything, now=NOW)
    assert plan["action"] == "start" and plan["rollback"]["revision"] == A
    gone = plan_deploy(target(B, "step-4"), state, missing, available=lambda rev: rev != A, now=NOW)
    assert gone["rollback"] is None and A in gone["no_rollback_reason"]
    first = plan_deploy(target(B, "step-4"), {}, missing, available=everything, now=NOW)
    assert (
        first["rollback"] is None and first["no_rollback_reason"] == "No previous revision to roll back to."
    )
    assert first["records"]["deployed"]["previous"] is None


@pytest.mark.parametrize(
    ("container", "files_changed", "healthy", "restart"),
    [
        (running(B), False, True, False),
        (running(B), True, True, True),  # files repaired under a running server
        (running(B), False, False, True),  # the last deploy left it unhealthy (a wedged server)
        (looping(B), False, True, True),
        (exited(B), False, True, True),
    ],
)
def test_a_redeploy_restarts_what_cannot_be_trusted(container, files_changed, healthy, restart) -> None:
    state = {"current": entry(B, "step-4"), "healthy": healthy}
    plan = plan_deploy(
        target(B, "step-4"), state, container, available=everything, files_changed=files_changed, now=NOW
    )
    assert plan["restart"] is restart


def test_a_switch_never_restarts_since_the_container_is_recreated() -> None:
    plan = plan_deploy(target(B, "x"), {}, running(A), available=everything, files_changed=True, now=NOW)
    assert plan["restart"] is False


def test_server_command_is_the_upstream_command_line() -> None:
    server = {"python": "python3", "embodiment_tag": "UNITREE_G1", "port": 6000, "device": "cpu"}
    assert server_command(A, server) == [
        "python3", "gr00t/eval/run_gr00t_server.py", "--model-path", f"/models/{A}",
        "--embodiment-tag", "UNITREE_G1", "--host", "0.0.0.0", "--port", "6000", "--device", "cpu",
    ]  # fmt: skip
    assert server_command(A, {**server, "use_sim_policy_wrapper": True})[-1] == "--use-sim-policy-wrapper"
    assert model_revision(server_command(A, server)) == A


def test_status_reports_the_container_not_the_record() -> None:
    state = {"current": entry(B, "step-4"), "previous": entry(A, "step-2"), "healthy": True}
    view = status_view(state, running(A))
    assert view["deployed_revision"] == A and view["requested"] == "step-2"
    assert view["recorded_revision"] == B and view["agrees_with_record"] is False
    assert A in view["note"] and B in view["note"]
    assert container_health(looping(B, 4)) == "crash-looping (restarted 4 times, last exit code 1)"
    assert status_view(state, looping(B))["container"].startswith("crash-looping")
    assert container_health(exited(B)) == "exited (exit code 137)"
    assert status_view({}, container_view(None))["container"] == "no container"


def test_host_state_reads_docker_and_the_state_file(tmp_path: Path) -> None:
    state_file = tmp_path / "deployed.json"
    state_file.write_text(json.dumps({"current": entry(A, "step-2"), "healthy": True}))
    (tmp_path / A).mkdir()
    inspect = [{"State": {"Status": "running", "Running": True}, "RestartCount": 0,
                "Config": {"Cmd": server_command(A, {}), "Image": "img"}}]  # fmt: skip
    calls = []

    def run(argv):
        calls.append(list(argv))
        return 0, json.dumps(inspect), ""

    result = host_state("srv", state_file, tmp_path, target=target(B, "step-4"), server={"port": 1}, now=NOW,
                        run=run)  # fmt: skip
    assert calls == [["docker", "inspect", "--type", "container", "srv"]]
    assert result["changed"] is False and result["status"]["deployed_revision"] == A
    assert result["plan"]["rollback"]["revision"] == A
    assert (
        result["plan"]["command"][3] == f"/models/{B}"
        and result["plan"]["rollback_command"][3] == f"/models/{A}"
    )

    def absent(argv):
        return 1, "", "Error: No such container: srv"

    assert (
        host_state("srv", tmp_path / "none.json", tmp_path, now=NOW, run=absent)["container"]["exists"]
        is False
    )
