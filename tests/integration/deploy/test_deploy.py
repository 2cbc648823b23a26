"""The groot_server role against this machine's Docker engine: deploy + probe, idempotence, check mode,
and a broken model rolled back to the previous one while the play fails naming the bad revision."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from groot_ops.probe import probe_server
from tests.ansible_helpers import run_playbook, write_local_inventory
from tests.hub_server.fixtures import hub  # noqa: F401  (fixture)
from tests.standins.model_fixture import write_model_dir
from tests.standins.server_image import build_standin_server_image

pytestmark = pytest.mark.docker

PLAYBOOK = Path(__file__).with_name("deploy_local.yml")
CONTAINER = "groot-ops-deploy-test-server"


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


@pytest.fixture(scope="module")
def image() -> str:
    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode:
        pytest.fail("Docker engine not reachable (run via make test, which starts one)")
    return build_standin_server_image()


@pytest.fixture
def lab(tmp_path: Path, image: str, hub):  # noqa: F811
    root = tmp_path
    exports = root / "exports"
    write_model_dir(exports / "rev-a", seed=1)
    write_model_dir(exports / "rev-b", seed=2)
    broken = write_model_dir(exports / "rev-broken", seed=3)
    (broken / "statistics.json").unlink()
    port = free_port()
    inventory = write_local_inventory(root / "hosts.yml", {"inference": ["groot-ops-deploy-host"]})
    base_vars = {
        "groot_server_model_source": "local",
        "groot_server_data_root": str(root / "host"),
        "groot_server_container_name": CONTAINER,
        "groot_server_image": image,
        "groot_server_gpus": False,
        "groot_server_shm_size": "64M",
        "groot_server_device": "cpu",
        "groot_server_published_port": port,
        "groot_server_bind_address": "127.0.0.1",
        "groot_server_probe_host": "127.0.0.1",
        "groot_server_probe_startup_timeout_s": 20,
        "groot_server_probe_request_timeout_s": 5,
    }

    # The published model: a private Hub repo with a tag, as the publish stage leaves it.
    sha = hub.seed("groot/g1-model", exports / "rev-a", repo_type="model", private=True, tags=["step-2"])
    # The token reaches Ansible in a vars file (as from a vault), never on a command line.
    secrets = root / "secrets.yml"
    secrets.write_text(json.dumps({"groot_server_hub_token": hub.token}))
    hub_vars = {
        "groot_server_model_source": "hub",
        "groot_server_model_repo_id": "groot/g1-model",
        "groot_server_hub_endpoint": hub.url,
        "groot_server_controller_cache_dir": str(root / "controller-cache"),
    }

    def deploy(revision: str, **kwargs):
        if revision == "step-2":
            extra = {**base_vars, **hub_vars, "groot_server_model_revision": revision}
        else:
            extra = {**base_vars, "groot_server_model_revision": revision,
                     "groot_server_model_local_dir": str(exports / revision)}  # fmt: skip
        return run_playbook(
            PLAYBOOK, inventory=inventory, extra_vars=extra, extra_vars_files=[secrets], timeout=300, **kwargs
        )

    yield {"deploy": deploy, "port": port, "state": root / "host" / "state" / "deployed.json", "sha": sha,
           "token": hub.token}  # fmt: skip
    subprocess.run(["docker", "rm", "-f", CONTAINER], capture_output=True)


def test_deploy_probe_idempotence_check_mode_and_rollback(lab) -> None:
    sha = lab["sha"]
    first = lab["deploy"]("step-2")
    assert first.rc == 0, first.describe()
    assert lab["token"] not in first.output
    assert probe_server("127.0.0.1", lab["port"], startup_timeout_s=10)["ok"]
    current = json.loads(lab["state"].read_text())["current"]
    assert (current["revision"], current["requested"], current["source"]) == (sha, "step-2", "hub")
    assert f"/models/{sha}" in container_command()

    again = lab["deploy"]("step-2")
    assert again.rc == 0 and again.changed() == 0, again.describe()

    # check mode: reports the change, touches nothing
    dry = lab["deploy"]("rev-b", check=True, diff=True)
    assert dry.rc == 0 and dry.changed() > 0, dry.describe()
    assert f"/models/{sha}" in container_command()
    assert json.loads(lab["state"].read_text())["current"]["revision"] == sha

    second = lab["deploy"]("rev-b")
    assert second.rc == 0, second.describe()
    state = json.loads(lab["state"].read_text())
    assert (state["current"]["revision"], state["previous"]["revision"]) == ("rev-b", sha)

    bad = lab["deploy"]("rev-broken")
    assert bad.rc != 0, bad.describe()
    assert "Revision rev-broken (rev-broken) failed the health probe" in bad.output, bad.describe()
    assert "Rolled back to rev-b" in bad.output
    assert "/models/rev-b" in container_command()
    assert probe_server("127.0.0.1", lab["port"], startup_timeout_s=10)["ok"]
    state = json.loads(lab["state"].read_text())
    assert (state["current"]["revision"], state["previous"]["revision"]) == ("rev-b", sha)
    # older models stay on the host next to the bad one
    assert (lab["state"].parent.parent / "checkpoints" / sha / "config.json").is_file()
