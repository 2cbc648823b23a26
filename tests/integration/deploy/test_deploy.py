"""The groot_server role against this machine's Docker engine and the test Hub: the host fetches and
verifies the model, the container is watched and probed, a broken revision is rolled back at once, a
re-deploy never switches revisions, damaged files are repaired, and deployed.json names what serves."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from groot_ops.probe import probe_server
from tests.ansible_helpers import run_playbook, write_local_inventory
from tests.hub_server.fixtures import HubHandle, hub  # noqa: F401  (fixture)
from tests.standins.model_fixture import write_model_dir
from tests.standins.server_image import build_standin_server_image

pytestmark = pytest.mark.docker

PLAYBOOK = Path(__file__).with_name("deploy_local.yml")
STATUS = Path(__file__).with_name("status_local.yml")
CONTAINER = "groot-ops-deploy-test-server"
REPO = "groot/g1-model"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def container_command() -> list[str]:
    out = subprocess.run(
        ["docker", "inspect", "-f", "{{json .Config.Cmd}}", CONTAINER],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def serves(sha: str) -> bool:
    return f"/models/{sha}" in container_command()


@pytest.fixture(scope="module")
def image() -> str:
    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode:
        pytest.fail("Docker engine not reachable (run via make test, which starts one)")
    return build_standin_server_image()


@pytest.fixture
def site(tmp_path: Path, image: str, hub: HubHandle):  # noqa: F811
    from huggingface_hub import HfApi

    from groot_ops.lab.hubseed import classic_lfs

    api = HfApi(endpoint=hub.url, token=hub.token)
    api.create_repo(REPO, private=True)

    def publish(folder: Path, tag: str) -> str:
        """One commit holding exactly ``folder``, tagged, as the publish stage leaves it."""
        with classic_lfs():
            info = api.upload_folder(folder_path=str(folder), repo_id=REPO, delete_patterns=["*"])
        api.create_tag(REPO, tag=tag, revision=info.oid)
        return info.oid

    exports = tmp_path / "exports"
    shas = {
        "A": publish(write_model_dir(exports / "a", seed=1), "step-2"),
        "B": publish(write_model_dir(exports / "b", seed=2), "step-4"),
    }
    broken = write_model_dir(exports / "broken", seed=3)
    (broken / "statistics.json").unlink()
    shas["bad"] = publish(broken, "step-6")
    port = free_port()
    inventory = write_local_inventory(tmp_path / "hosts.yml", {"inference": ["groot-ops-deploy-host"]})
    base_vars = {
        "groot_server_model_repo_id": REPO,
        "groot_server_hub_endpoint": hub.url,
        "groot_server_data_root": str(tmp_path / "host"),
        "groot_server_container_name": CONTAINER,
        "groot_server_image": image,
        "groot_server_gpus": False,
        "groot_server_shm_size": "64M",
        "groot_server_device": "cpu",
        "groot_server_published_port": port,
        "groot_server_bind_address": "127.0.0.1",
        "groot_server_probe_host": "127.0.0.1",
        "groot_server_probe_startup_timeout_s": 60,
        "groot_server_probe_request_timeout_s": 5,
        "groot_server_probe_answer_timeout_s": 3,
    }
    # The token reaches Ansible in a vars file (as from a vault), never on a command line.
    secrets = tmp_path / "secrets.yml"
    secrets.write_text(json.dumps({"groot_server_hub_token": hub.token}))

    def deploy(revision: str, *, check: bool = False, **overrides):
        extra = {**base_vars, "groot_server_model_revision": revision, **overrides}
        return run_playbook(PLAYBOOK, inventory=inventory, extra_vars=extra, extra_vars_files=[secrets],
                            check=check, diff=check, timeout=300)  # fmt: skip

    def status() -> dict:
        result = run_playbook(STATUS, inventory=inventory, extra_vars=base_vars, timeout=120)
        assert result.rc == 0, result.describe()
        return _report(result.stdout)

    root = tmp_path / "host"
    yield {
        "deploy": deploy,
        "status": status,
        "port": port,
        "shas": shas,
        "token": hub.token,
        "state": root / "state" / "deployed.json",
        "models": root / "checkpoints",
    }
    subprocess.run(["docker", "rm", "-f", CONTAINER], capture_output=True)


def _report(stdout: str) -> dict:
    """The status report's msg (ansible.cfg prints results as YAML after ``=>``)."""
    import yaml

    text = stdout[stdout.index("report the deployed revision") :]
    block = text.split("=>", 1)[1].split("\n\n", 1)[0]
    return yaml.safe_load(block)["msg"]


def state(site: dict) -> dict:
    return json.loads(site["state"].read_text())


def test_deploy_switch_rollback_and_redeploy(site: dict) -> None:
    shas = site["shas"]
    first = site["deploy"]("step-2")
    assert first.rc == 0, first.describe()
    assert site["token"] not in first.output
    assert probe_server("127.0.0.1", site["port"], startup_timeout_s=10)["ok"]
    current = state(site)["current"]
    assert (current["revision"], current["requested"], current["repo_id"]) == (shas["A"], "step-2", REPO)
    assert serves(shas["A"])

    again = site["deploy"]("step-2")
    assert again.rc == 0 and again.changed() == 0, again.describe()

    # check mode: reports the change, touches nothing (not even the model files)
    dry = site["deploy"]("step-4", check=True)
    assert dry.rc == 0 and dry.changed() > 0, dry.describe()
    assert serves(shas["A"]) and state(site)["current"]["revision"] == shas["A"]
    assert not (site["models"] / shas["B"]).exists()

    second = site["deploy"]("step-4")
    assert second.rc == 0, second.describe()
    recorded = state(site)
    assert (recorded["current"]["revision"], recorded["previous"]["revision"]) == (shas["B"], shas["A"])

    # A broken model: the container exits at start; it is seen at once, not after the start-up timeout.
    bad = site["deploy"]("step-6")
    assert bad.rc != 0, bad.describe()
    flat = bad.stdout.replace("\\n", "\n")
    assert f"Revision {shas['bad']} (step-6) failed" in flat, bad.describe()
    assert re.search(r"exited with code 1|crash-looping|restarted \d+ time", flat), bad.describe()
    assert "not ready after" not in flat
    assert f"Rolled back to {shas['B']}, which serves and passed the probe" in flat
    assert "is missing required files: statistics.json" in flat  # the server's own log line
    assert serves(shas["B"])
    assert probe_server("127.0.0.1", site["port"], startup_timeout_s=10)["ok"]
    recorded = state(site)
    assert (recorded["current"]["revision"], recorded["previous"]["revision"]) == (shas["B"], shas["A"])
    assert recorded["healthy"] is True
    assert recorded["last_failure"]["revision"] == shas["bad"]
    assert recorded["last_failure"]["rolled_back_to"] == shas["B"]
    assert (site["models"] / shas["A"] / "config.json").is_file()  # older models stay on the host

    report = site["status"]()
    assert report["deployed_revision"] == shas["B"] and report["container"] == "running"
    assert report["answering"] is True and report["agrees_with_record"] is True

    # Re-deploying what serves, with a probe that fails (here: the wrong port): never a switch to A.
    flaky = site["deploy"]("step-4", groot_server_probe_port=free_port())
    assert flaky.rc != 0, flaky.describe()
    flat = flaky.stdout.replace("\\n", "\n")
    assert f"{shas['B']} already served: not switched to another revision" in flat, flaky.describe()
    assert "Server is ready and listening" in flat  # its log says it is up: the probe path is the suspect
    assert serves(shas["B"])
    assert state(site)["current"]["revision"] == shas["B"] and state(site)["healthy"] is False

    # The next plain run restarts the server the last run left unhealthy, and records it healthy again.
    healed = site["deploy"]("step-4")
    assert healed.rc == 0 and healed.changed() > 0, healed.describe()
    assert state(site)["healthy"] is True and serves(shas["B"])
    assert site["deploy"]("step-4").changed() == 0


def test_a_rollback_whose_probe_fails_too_records_what_serves(site: dict) -> None:
    shas = site["shas"]
    assert site["deploy"]("step-2").rc == 0
    both = site["deploy"]("step-6", groot_server_probe_port=free_port())
    assert both.rc != 0, both.describe()
    flat = both.stdout.replace("\\n", "\n")
    assert f"The rollback to {shas['A']} failed too" in flat, both.describe()
    assert serves(shas["A"])
    recorded = state(site)
    assert recorded["current"]["revision"] == shas["A"] and recorded["healthy"] is False
    assert recorded["last_failure"]["revision"] == shas["bad"]


def test_damaged_files_on_the_host_are_repaired_and_the_crash_loop_ends(site: dict) -> None:
    shas = site["shas"]
    assert site["deploy"]("step-4").rc == 0
    stats = site["models"] / shas["B"] / "statistics.json"
    stats.write_text("{}")  # damaged on the host: the server cannot load it after a restart
    subprocess.run(["docker", "restart", CONTAINER], check=True, capture_output=True)
    report = site["status"]()
    assert report["deployed_revision"] == shas["B"]
    assert report["container"].startswith("crash-looping") or "restarted" in report["container"], report
    assert report["answering"] is False

    fixed = site["deploy"]("step-4")
    assert fixed.rc == 0, fixed.describe()
    assert "repaired statistics.json" in fixed.stdout, fixed.describe()
    assert json.loads(stats.read_text())  # the Hub's bytes again
    assert probe_server("127.0.0.1", site["port"], startup_timeout_s=10)["ok"]
    assert site["status"]()["answering"] is True
    assert site["deploy"]("step-4").changed() == 0
