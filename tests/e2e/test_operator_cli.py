"""The operator CLI (``groot-ops plan|run|status``) against the lab, as ops would run it.

``plan`` must meet a fresh lab (no training container yet), so it is marked ``fresh_lab`` and the
e2e conftest runs it before any other lab test. The other tests run after the pipeline tests and
use their own recipe (``lab-cli``: one dataset, its own model repo) for a whole ``run site``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from groot_ops.lab import hub
from groot_ops.lab.docker import inspect
from groot_ops.lab.layout import LabPaths

pytestmark = [pytest.mark.lab, pytest.mark.docker, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
PATHS = LabPaths(REPO)
RECIPE = "lab-cli"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _cli(*args: str, state_dir: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "groot_ops", *args, "--state-dir", str(state_dir)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def _token() -> str:
    return PATHS.hub_tokens.read_text().strip()


def _only_run_dir(state_dir: Path) -> Path:
    runs = sorted((state_dir / "runs").iterdir())
    assert len(runs) == 1, runs
    return runs[0]


def _lab_hosts_state(seeded: dict[str, str]) -> dict[str, Any]:
    """What a dry run must not change: containers, every file of the hosts' data roots, the Hub."""
    from huggingface_hub import HfApi

    names = subprocess.run(["docker", "ps", "-a", "--format", "{{.Names}} {{.State}}"],
                           capture_output=True, text=True, check=True).stdout.split("\n")  # fmt: skip
    files = {
        str(path.relative_to(PATHS.root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in (PATHS.root / "hosts").rglob("*")
        if not path.is_symlink()
    }
    api = HfApi(endpoint=hub.LOCAL_URL, token=_token())
    refs = {
        repo: [b.target_commit for b in api.list_repo_refs(repo, repo_type="dataset").branches]
        for repo in seeded
    }
    model = api.repo_exists("lab/groot-g1-lab-demo", repo_type="model")
    return {"containers": sorted(names), "files": files, "refs": refs, "model_published": model}


@pytest.mark.fresh_lab
def test_plan_on_a_fresh_lab_lists_the_work_and_changes_nothing(lab: dict[str, Any], tmp_path: Path) -> None:
    assert inspect("container", "lab-ws-dm-workstation") is None, "not a fresh lab: run this test first"
    before = _lab_hosts_state(lab["hub"]["datasets"])
    proc = _cli("plan", "lab-demo", "--json", state_dir=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert not result["failures"]
    lines = [entry["plan"] for entry in result["plan"]]
    text = "\n".join(lines)
    assert re.search(
        r"preflight: ok; disk budget [\d.]+ [KMGT]?i?B vs [\d.]+ [KMGT]?i?B free -> fits", text
    ), text
    assert "container lab-ws-dm-workstation: create or recreate" in text
    # Revisions resolved to the commits the lab Hub holds, from the controller (no trainer yet).
    recipes = yaml.safe_load((REPO / "inventory/lab/group_vars/all/recipes.yml").read_text())["groot_recipes"]
    demo = {d["repo_id"] for d in recipes["lab-demo"]["datasets"]}
    for repo_id, sha in lab["hub"]["datasets"].items():
        if repo_id not in demo:
            continue
        found = [line for line in lines if f"{repo_id}@main -> {sha}" in line and "would fetch" in line]
        assert found, (repo_id, text)
    for stage in ("the training env setup", "training", "the publish stage"):
        assert f"provision stage creates it, then {stage} runs there from scratch" in text
    assert "model lab/groot-g1-lab-demo@main is not on the Hub yet" in text
    # A revision the Hub does not have fails the plan readably, although the resolution is no_log.
    pins = tmp_path / "pins.yml"
    pins.write_text("groot_datasets_revision_pins: {unitreerobotics/G1_Dex1_Fold_Towel: no-such-branch}\n")
    bad = _cli("plan", "lab-demo", "-e", f"@{pins}", state_dir=tmp_path / "bad")
    assert bad.returncode != 0
    assert re.search(
        r"FAILED lab-ws-dm-workstation \| .*Download failed for fold_towel "
        r"\(unitreerobotics/G1_Dex1_Fold_Towel@no-such-branch\)",
        bad.stdout,
    ), bad.stdout[-3000:]
    # A dry run: nothing on the hosts, the Hub or the engine changed.
    assert _lab_hosts_state(lab["hub"]["datasets"]) == before
    assert inspect("container", "lab-ws-dm-workstation") is None


def test_run_site_streams_progress_records_events_and_keeps_the_token_out(
    lab: dict[str, Any], tmp_path: Path
) -> None:
    proc = _cli("run", "site", RECIPE, "-e", "wait=true", "-v", state_dir=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    run_dir = _only_run_dir(tmp_path)
    # Live progress: plays, tasks, and the training progress bar while the run was polled.
    assert "PLAY Train | fine-tune the recipe on every training host" in proc.stdout
    assert "TASK Datasets | download each dataset" in proc.stdout
    # The bar at each poll (with its ETA) or, when the run was done before the first poll, its last state.
    bar = r"lab-ws-dm-workstation: \[[#.]{24}\] \d+/20 loss \d+\.\d+ .*(ETA|finished)"
    assert re.search(bar, proc.stdout), proc.stdout[-3000:]
    assert "Exit code: 0" in proc.stdout
    assert not CONTROL.search(proc.stdout.replace("\n", "")), "control characters on a non-TTY"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["rc"] == 0 and summary["hosts"]["lab-ws-dm-workstation"]["changed"] > 0
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    kinds = {event["event"] for event in events}
    assert {"playbook_on_start", "runner_on_ok", "runner_retry", "playbook_on_stats"} <= kinds
    # The vault token was used (private datasets, upload, model fetch) and is nowhere in the run.
    token = _token()
    assert token.encode() not in PATHS.vault_file.read_bytes(), "the lab vault is not encrypted"
    assert token not in out
    leaks = [p for p in run_dir.rglob("*") if p.is_file() and token.encode() in p.read_bytes()]
    assert not leaks, f"the vault token is written in {leaks}"
    # Deployed: status reports the published commit as served.
    status = _cli("status", RECIPE, "--json", "--plot", str(tmp_path / "loss.png"), state_dir=tmp_path)
    assert status.returncode == 0, status.stdout + status.stderr
    report = json.loads(status.stdout)
    assert report["recipe"] == RECIPE and report["state"] == "finished", report
    assert report["step"] == report["max_steps"] == 20
    assert isinstance(report["loss"], float)
    from huggingface_hub import HfApi

    published = HfApi(endpoint=hub.LOCAL_URL, token=token).model_info("lab/groot-g1-lab-cli").sha
    assert report["deployed_revision"] == published
    # The run ended with what it produced and what to run next; the suggested probe really answers.
    assert re.search(
        r"Model: +finished at step 20/20, final loss \d+\.\d+ on lab-ws-dm-workstation", proc.stdout
    )
    assert re.search(
        rf"Published: lab/groot-g1-lab-cli @ {published[:12]}, tag step-20 \(\d+ files uploaded\)",
        proc.stdout,
    )
    assert f"lab-spark: groot-server serves lab/groot-g1-lab-cli@{published[:12]}" in proc.stdout
    assert "query it: groot-ops probe 127.0.0.1 5555" in proc.stdout
    probe = subprocess.run([sys.executable, "-m", "groot_ops", "probe", "127.0.0.1", "5555"], cwd=REPO,
                           capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert probe.returncode == 0 and "healthy" in probe.stdout, probe.stdout + probe.stderr
    assert (tmp_path / "loss.png").read_bytes().startswith(b"\x89PNG")
    assert token not in status.stdout + status.stderr


def test_a_failing_task_exits_non_zero_naming_task_host_and_message(
    lab: dict[str, Any], tmp_path: Path
) -> None:
    bad = "groot_server_model_revision=no-such-revision"
    proc = _cli("run", "deploy", RECIPE, "-e", bad, state_dir=tmp_path)
    assert proc.returncode != 0
    assert re.search(
        r"FAILED lab-spark \| Deploy \| groot-server with the recipe's model \| "
        r"Groot server \| fail when the model revision cannot be fetched: "
        r"Cannot fetch model lab/groot-g1-lab-cli@no-such-revision",
        proc.stdout,
    ), proc.stdout[-3000:]
    assert f"Exit code: {proc.returncode}" in proc.stdout
    # Refused before the server was touched: the deployed model still answers.
    assert inspect("container", "groot-server")["State"]["Running"]


def test_two_runs_in_a_row_do_not_share_options(lab: dict[str, Any], tmp_path: Path) -> None:
    first = _cli("run", "preflight", RECIPE, "--check", "--tags", "role::preflight", "-e", "leak_probe=1",
                 state_dir=tmp_path)  # fmt: skip
    assert first.returncode == 0, first.stdout + first.stderr
    second = _cli("run", "preflight", RECIPE, "--json", state_dir=tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    run_a, run_b = sorted((tmp_path / "runs").iterdir())
    command_a = json.loads((run_a / "artifacts" / "run" / "command").read_text())["command"]
    command_b = json.loads((run_b / "artifacts" / "run" / "command").read_text())["command"]
    assert "--check" in command_a and "leak_probe" in " ".join(command_a)
    assert "--check" not in command_b and "leak_probe" not in " ".join(command_b)
    assert "role::preflight" not in " ".join(command_b)
    # Nothing persisted for a later run to pick up (ansible-runner's env/ files).
    for run_dir in (run_a, run_b):
        env_dir = run_dir / "env"
        assert not env_dir.exists() or not any(env_dir.iterdir()), list(env_dir.iterdir())
    # --json ends with the per-host counts.
    summary = json.loads(second.stdout)
    assert set(summary["hosts"]["lab-ws"]) >= {"ok", "changed", "failed"}
    assert summary["hosts"]["lab-ws"]["failed"] == 0
