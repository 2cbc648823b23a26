"""The pipeline end to end on the lab: every stage, in order, then site.yml again with no change (and
without a new connection per container task, and no name resolved outside the lab); then the two-node
variant (torchrun rendezvous between lab-ws and lab-ws2).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from groot_ops.lab import hub, layout
from groot_ops.lab.hosts import ssh_logins
from groot_ops.lab.layout import LabPaths
from groot_ops.lab.pipeline import PlaybookRun, changed_tasks, run_playbook
from tests.e2e import checks, resolver_log

pytestmark = [pytest.mark.lab, pytest.mark.docker, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
PATHS = LabPaths(REPO)
RECIPE = "lab-demo"
TIMINGS = REPO / ".cache" / "lab-e2e" / "timings.json"
# Each stage needs the one before it; preflight is read-only and comes first.
STAGES = ("preflight", "provision", "datasets", "train", "publish", "deploy")


def _recipes() -> dict[str, Any]:
    text = (REPO / "inventory/lab/group_vars/all/recipes.yml").read_text()
    return yaml.safe_load(text)["groot_recipes"]


def _record(key: str, seconds: float) -> None:
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
    data[key] = seconds
    TIMINGS.write_text(json.dumps(data, indent=2) + "\n")


def _run(stage: str, recipe: str = RECIPE) -> PlaybookRun:
    extra = ["-e", "wait=true"] if stage in ("train", "site") else []
    run = run_playbook(REPO, f"{stage}.yml", recipe=recipe, extra=extra, timeout_s=600)
    tail = "".join(run.log.read_text().splitlines(keepends=True)[-40:])
    assert run.ok, f"{stage}.yml failed (exit {run.returncode}), log {run.log}:\n{tail}"
    assert run.recap, f"{stage}.yml printed no PLAY RECAP; log {run.log}"
    return run


def test_lab_hosts_pin_their_host_keys(lab: dict[str, Any], tmp_path: Path) -> None:
    ssh = ["ssh", "-F", str(PATHS.ssh_config), "-o", "BatchMode=yes", "-o", "ControlMaster=no"]
    ok = subprocess.run([*ssh, "lab-ws", "docker", "version", "--format", "{{.Server.Version}}"],
                        capture_output=True, text=True, check=False)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip(), "lab-ws cannot reach the engine through its mounted socket"
    # A known_hosts holding another host's key must make ssh refuse: checking is really on.
    spark_key = PATHS.known_hosts.read_text().splitlines()[-1].split(" ", 1)[1]
    wrong = tmp_path / "known_hosts"
    wrong.write_text(f"lab-ws {spark_key}\n")
    refused = subprocess.run([*ssh, "-o", f"UserKnownHostsFile={wrong}", "lab-ws", "true"],
                             capture_output=True, text=True, check=False)  # fmt: skip
    assert refused.returncode != 0
    assert "host key" in refused.stderr.lower() or "identification has changed" in refused.stderr.lower()


def test_lab_hub_serves_seeded_datasets_at_their_commits(lab: dict[str, Any], tmp_path: Path) -> None:
    from huggingface_hub import HfApi, snapshot_download

    seeded = lab["hub"]["datasets"]
    assert {d["repo_id"] for r in _recipes().values() for d in r["datasets"]} <= set(seeded)
    # A dataset may be a sub-folder of its repo (a GR00T-layout one): its meta/ lies there.
    folders = {
        d["repo_id"]: f"{d['subfolder']}/"
        for r in _recipes().values()
        for d in r["datasets"]
        if d.get("subfolder")
    }
    api = HfApi(endpoint=hub.LOCAL_URL, token=PATHS.hub_tokens.read_text().strip())
    for repo_id, commit in seeded.items():
        info = api.dataset_info(repo_id, revision=commit)
        assert info.sha == commit
        files = {s.rfilename for s in info.siblings or []}
        assert f"{folders.get(repo_id, '')}meta/info.json" in files, f"{repo_id}: {sorted(files)[:10]}"
        assert any(name.endswith(".mp4") for name in files), f"{repo_id}: no videos seeded"
    one = next(repo for repo in seeded if repo not in folders)
    local = snapshot_download(one, repo_type="dataset", revision=seeded[one], endpoint=hub.LOCAL_URL,
                              cache_dir=tmp_path / "cache", token=api.token)  # fmt: skip
    info = json.loads((Path(local) / "meta/info.json").read_text())
    assert info["codebase_version"] in {"v2.1", "v3.0"}


def test_lab_cli_reports_status_and_a_failed_stage(lab: dict[str, Any]) -> None:
    cli = [sys.executable, "-m", "groot_ops", "lab"]
    status = subprocess.run([*cli, "status", "--json"], capture_output=True, text=True, check=False, cwd=REPO)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["up"] is True
    # An unknown recipe stops at the preamble, on the controller: exit 1, a JSON summary, a log.
    run = subprocess.run([*cli, "run", "--recipe", "no-such-recipe", "--playbook", "datasets.yml", "--json"],
                         capture_output=True, text=True, check=False, cwd=REPO)  # fmt: skip
    assert run.returncode == 1, run.stderr
    summary = json.loads(run.stdout)
    assert summary["ok"] is False
    assert "Unknown recipe no-such-recipe" in Path(summary["log"]).read_text()


def test_lab_network_is_internal(lab: dict[str, Any]) -> None:
    from groot_ops.lab.docker import inspect

    assert inspect("network", layout.NETWORK)["Internal"] is True
    # The lab hosts' engine sockets are the only way they act: no host network, no privileges.
    for host in layout.HOSTS:
        info = inspect("container", host.name)
        assert info["HostConfig"]["NetworkMode"] != "host"
        assert info["HostConfig"]["Privileged"] is False
        ports = info["HostConfig"]["PortBindings"]["22/tcp"]
        assert ports == [{"HostIp": "127.0.0.1", "HostPort": str(host.ssh_port)}]


def _check(stage: str, recipe_name: str, lab: dict[str, Any], nodes: list[str]) -> None:
    recipe = _recipes()[recipe_name]
    if stage == "provision":
        checks.check_provision(recipe, nodes)
    elif stage == "datasets":
        checks.check_datasets(recipe_name, recipe, lab["hub"]["datasets"])
    elif stage == "train":
        checks.check_train(recipe_name, recipe, nodes)
    elif stage == "publish":
        checks.check_publish(recipe, PATHS.hub_tokens.read_text().strip())
    elif stage == "deploy":
        checks.check_deploy(recipe)


def test_pipeline_stage_by_stage_then_unchanged(lab: dict[str, Any]) -> None:
    for stage in STAGES:
        _record(f"first:{stage}", _run(stage).seconds)
        _check(stage, RECIPE, lab, ["lab-ws"])
    # Idempotence: the whole pipeline again changes nothing. The same run, with every Python process in
    # the lab logging its name resolutions, resolves no name outside the lab (tests/e2e/resolver_log.py).
    logins = ssh_logins()
    with resolver_log.installed() as logged:
        again = _run("site")
        outside = resolver_log.outside_lookups(logged)
        control = resolver_log.control_lookups()
    _record("second:site", again.seconds)
    assert not outside, f"lookups outside the lab: {outside}"
    assert "huggingface.co" in control, f"the resolver log did not see the control lookup: {control}"
    changed = {host: c["changed"] for host, c in again.recap.items() if c["changed"]}
    # Strict even when a commit lands in the checkout between the runs: the model card records the
    # commit that launched the training (in the run directory), not the controller's HEAD now.
    tasks = changed_tasks(again.log.read_text())
    assert not changed, f"second site.yml run changed {changed}: {tasks}; log {again.log}"
    # Container tasks reuse one forwarded connection per engine host (made by the first run, still up):
    # the engine hosts' sshd saw only Ansible's own multiplexed connections to the hosts themselves.
    opened = {host: count - logins[host] for host, count in ssh_logins().items()}
    assert opened["lab-ws"] <= 3 and opened["lab-spark"] <= 3, opened
    _check("deploy", RECIPE, lab, ["lab-ws"])


def _two_node_recipe() -> str:
    lab = yaml.safe_load((REPO / "inventory/lab/group_vars/all/lab.yml").read_text())
    names = [name for name, nodes in lab["lab_recipe_nodes"].items() if nodes == 2 and name in _recipes()]
    assert names, f"no lab recipe trains on two nodes: {lab['lab_recipe_nodes']} vs {sorted(_recipes())}"
    return names[0]


def test_two_node_training_with_rendezvous(lab: dict[str, Any]) -> None:
    recipe = _two_node_recipe()
    nodes = ["lab-ws", "lab-ws2"]
    for stage in ("provision", "datasets", "train"):
        run = _run(stage, recipe=recipe)
        _record(f"2node:{stage}", run.seconds)
        _check(stage, recipe, lab, nodes)
    statuses = [
        json.loads((checks.workspace(h) / "runs" / recipe / "status.json").read_text()) for h in nodes
    ]
    assert sorted(s["node_rank"] for s in statuses) == [0, 1]
    assert {s["nnodes"] for s in statuses} == {2}


def _serving_revision() -> str:
    from groot_ops.deploy import container_view
    from groot_ops.lab.docker import inspect

    revision = container_view(inspect("container", "groot-server"))["revision"]
    assert revision, "groot-server serves no /models/<revision>"
    return revision


def test_deploy_faults_on_the_lab(lab: dict[str, Any], tmp_path: Path) -> None:
    """On lab-spark (python3 and Docker, no groot_ops): a broken revision is rolled back at once with the
    server's log in the message; damaged files under a crash-looping server are repaired by a re-run."""
    import shutil
    import time

    from huggingface_hub import HfApi

    from groot_ops.lab.hubseed import classic_lfs

    recipe = _recipes()[RECIPE]
    serving = _serving_revision()
    models = PATHS.host_data("lab-spark") / "checkpoints"  # groot_server_data_root in inventory/lab
    broken = tmp_path / "broken"
    shutil.copytree(models / serving, broken)
    (broken / "statistics.json").unlink()
    api = HfApi(endpoint=hub.LOCAL_URL, token=PATHS.hub_tokens.read_text().strip())
    repo_id = recipe["hub"]["repo_id"]
    api.create_branch(repo_id, branch="lab-broken", revision=serving, exist_ok=True)
    with classic_lfs():
        info = api.upload_folder(
            folder_path=str(broken), repo_id=repo_id, revision="lab-broken", delete_patterns=["*"]
        )
    api.create_tag(repo_id, tag="lab-broken", revision=info.oid, exist_ok=True)

    started = time.monotonic()
    pin = ["-e", "groot_server_model_revision=lab-broken"]
    bad = run_playbook(REPO, "deploy.yml", recipe=RECIPE, extra=pin, timeout_s=600)
    _record("fault:broken-deploy", round(time.monotonic() - started, 1))
    text = bad.log.read_text().replace("\\n", "\n")
    assert not bad.ok, f"a broken revision deployed: {bad.log}"
    assert f"Revision {info.oid} (lab-broken) failed on lab-spark" in text, bad.log
    assert f"Rolled back to {serving}" in text and "statistics.json" in text, bad.log
    assert _serving_revision() == serving
    checks.check_deploy(recipe)

    # Damage under the served revision, then a restart: the server crash-loops; one deploy run repairs it.
    (models / serving / "statistics.json").write_text("{}")
    # --time 1: the server (python as PID 1) never acts on docker's SIGTERM; the default 10 s grace would
    # only be waited out before the SIGKILL. How the old process ends is not what this checks.
    subprocess.run(["docker", "restart", "--time", "1", "groot-server"], check=True, capture_output=True)
    started = time.monotonic()
    fixed = _run("deploy")
    _record("fault:damaged-files", round(time.monotonic() - started, 1))
    assert "repaired statistics.json" in fixed.log.read_text(), fixed.log
    assert json.loads((models / serving / "statistics.json").read_text())
    checks.check_deploy(recipe)
    again = _run("deploy")
    assert not {h: c for h, c in again.recap.items() if c["changed"]}, changed_tasks(again.log.read_text())
